import pkg from "../../package.json";
import { KAFKA_RELEASE } from "../../generated/index.ts";

export const VERSION_LINE = `klite ${pkg.version} (Kafka ${KAFKA_RELEASE} protocol)`;
