// The embedded consumer protocol of classic groups with protocol type
// "consumer": member metadata is an int16 version followed by a
// ConsumerProtocolSubscription. The coordinator only needs the subscribed
// topics, and reads them with the v0 layout, which prefixes every later version.

import * as Subscription from "../../generated/ConsumerProtocolSubscription.ts";
import { DecodeError, Reader } from "../protocol/reader.ts";

export const CONSUMER_PROTOCOL_TYPE = "consumer";

/** The topics of one member's subscription, or null when the metadata does not parse. */
export function subscribedTopics(metadata: Uint8Array): string[] | null {
  try {
    const r = new Reader(metadata);
    const version = r.int16();
    if (version < 0) return null;
    return Subscription.decode(r, 0).topics;
  } catch (e) {
    if (e instanceof DecodeError) return null;
    throw e;
  }
}
