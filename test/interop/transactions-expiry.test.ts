// transactional.id.expiration.ms (--transactional-id-expiration-ms): an id
// whose last transaction ended and that stays idle longer than the setting is
// forgotten, durably (a restart does not bring it back), and its next
// InitProducerId starts afresh with a new producer id; an id with a
// transaction still open is kept however long it idles, as in Kafka.
// Transactions by confluent-kafka-python (librdkafka 2.0.2); the coordinator's
// view through DescribeTransactions over TCP.

import { expect, test } from "bun:test";
import type * as DescribeTransactionsResponse from "../../generated/DescribeTransactionsResponse.ts";
import { ErrorCode } from "../../src/protocol/errors.ts";
import { spawnBroker } from "../helpers/broker.ts";
import { CLIENT_TEST_TIMEOUT, missing, py as pyScript } from "../helpers/clients.ts";
import { waitFor } from "../helpers/run.ts";
import { Holder } from "../helpers/txn-clients.ts";
import { connectWire } from "../helpers/wire-client.ts";

const py = <T = any>(bootstrap: string, ...args: string[]) => pyScript<T>("txn.py", bootstrap, args);

async function describe(port: number, id: string): Promise<DescribeTransactionsResponse.TransactionState> {
  const c = await connectWire(port);
  try {
    return (await c.call<DescribeTransactionsResponse.DescribeTransactionsResponse>(65, 0, { transactionalIds: [id] })).transactionStates[0]!;
  } finally {
    c.close();
  }
}

test.skipIf(missing("python"))("idle transactional ids expire after --transactional-id-expiration-ms, durably; ids with an open transaction never do", async () => {
  let b = await spawnBroker({ args: ["--transactional-id-expiration-ms", "1500"] });
  const holder = Holder.start(b.bootstrap, "exp", 0, "ex-open", 600_000, "ex-g");
  try {
    await py(b.bootstrap, "create", "exp", "1");
    await holder.ready();
    await py(b.bootstrap, "commit_abort", "exp", "ex-done");
    const before = await describe(b.port, "ex-done");
    expect(before.transactionState).toBe("CompleteCommit");

    await waitFor(async () => (await describe(b.port, "ex-done")).errorCode === ErrorCode.TRANSACTIONAL_ID_NOT_FOUND, 20_000, "ex-done to expire");
    // Idle just as long, but in a transaction.
    expect((await describe(b.port, "ex-open")).transactionState).toBe("Ongoing");

    b = await b.restart();
    expect((await describe(b.port, "ex-done")).errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
    expect((await describe(b.port, "ex-open")).transactionState).toBe("Ongoing");

    // The id starts afresh: a new producer id, epoch 0.
    await py(b.bootstrap, "commit_abort", "exp", "ex-done");
    const again = await describe(b.port, "ex-done");
    expect(again.transactionState).toBe("CompleteCommit");
    expect(again.producerId).not.toBe(before.producerId);
    expect(again.producerEpoch).toBe(0);
  } finally {
    await holder.kill9();
    await b.cleanup();
  }
}, CLIENT_TEST_TIMEOUT);
