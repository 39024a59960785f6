// DeleteGroups: empty groups are deleted with their offsets; live ones get
// NON_EMPTY_GROUP, unknown ones GROUP_ID_NOT_FOUND.

import type * as Req from "../../generated/DeleteGroupsRequest.ts";
import type * as Res from "../../generated/DeleteGroupsResponse.ts";
import type { Broker } from "../broker.ts";
import type { RequestContext } from "./registry.ts";

export async function handleDeleteGroups(broker: Broker, req: Req.DeleteGroupsRequest, _ctx: RequestContext): Promise<Res.DeleteGroupsResponseInit> {
  const results = await broker.groups.deleteGroups(req.groupsNames);
  return { throttleTimeMs: 0, results };
}
