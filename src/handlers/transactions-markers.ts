// WriteTxnMarkers (API 27): in Kafka the transaction coordinator's request to
// partition leaders; operators' tools (kafka-transactions.sh abort, Admin
// abortTransaction) send it too, to end a hanging transaction the coordinator
// no longer knows. klite's own coordinator writes its markers directly; this
// serves the outside callers: each partition gets the marker with Kafka's
// checks, and the answer waits until the markers are durable (a partition
// whose log failed to write or fsync gets KAFKA_STORAGE_ERROR, as in Kafka).

import type * as Req from "../../generated/WriteTxnMarkersRequest.ts";
import type * as Res from "../../generated/WriteTxnMarkersResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { partitionKey } from "../txn/coordinator.ts";
import type { RequestContext } from "./registry.ts";

export async function handleWriteTxnMarkers(broker: Broker, req: Req.WriteTxnMarkersRequest, _ctx: RequestContext): Promise<Res.WriteTxnMarkersResponseInit> {
  const written: { key: string; result: { errorCode: number } }[] = [];
  const markers = req.markers.map((m): Res.WritableTxnMarkerResultInit => {
    const producerId = Number(m.producerId);
    const write = (topic: string, partition: number): number => {
      // No producer owns id or epoch -1: a marker for it would end nothing and confuse readers of the log.
      if (producerId < 0 || m.producerEpoch < 0) return ErrorCode.INVALID_REQUEST;
      return broker.markers.writeRequestedMarker(topic, partition, producerId, m.producerEpoch, m.transactionResult, m.coordinatorEpoch, m.transactionVersion);
    };
    return {
      producerId: m.producerId,
      topics: m.topics.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((p) => {
          const result = { partitionIndex: p, errorCode: write(t.name, p) };
          if (result.errorCode === ErrorCode.NONE) written.push({ key: partitionKey(t.name, p), result });
          return result;
        }),
      })),
    };
  });
  const failed = new Set(await broker.markers.flush([...new Set(written.map((w) => w.key))]));
  for (const w of written) if (failed.has(w.key)) w.result.errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
  return { markers };
}
