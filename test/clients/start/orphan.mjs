// Starts a broker and never stops it: the process then exits by itself (the
// broker must not keep it alive) or is killed by the test. Prints the handle.
import { startBroker } from "klite";

const broker = await startBroker();
console.log(JSON.stringify({ mode: broker.mode, pid: broker.pid, dataDir: broker.dataDir, port: broker.port }));
if (process.argv[2] === "wait") setInterval(() => {}, 1000);
