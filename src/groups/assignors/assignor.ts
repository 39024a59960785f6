// What a server-side assignor (KIP-848) sees and answers: members with the
// topics they subscribe to and their current target, topics by id with their
// partition counts; out comes a new target assignment for every member.

/** topic id → partitions (sorted ascending). */
export type TopicAssignment = Map<string, number[]>;

export interface AssignorMember {
  memberId: string;
  instanceId: string | null;
  /** Ids of the existing topics the member subscribes to. */
  topics: ReadonlySet<string>;
  /** The member's previous target, which a sticky assignor keeps where it can. */
  current: ReadonlyMap<string, readonly number[]>;
}

export interface ServerAssignor {
  readonly name: string;
  /** `topics`: topic id → partition count. Every member appears in the result, possibly with nothing. */
  assign(members: readonly AssignorMember[], topics: ReadonlyMap<string, number>): Map<string, TopicAssignment>;
}

export function emptyAssignments(members: readonly AssignorMember[]): Map<string, TopicAssignment> {
  const out = new Map<string, TopicAssignment>();
  for (const m of members) out.set(m.memberId, new Map());
  return out;
}

export function addPartition(a: TopicAssignment, topicId: string, partition: number): void {
  const list = a.get(topicId);
  if (list) list.push(partition);
  else a.set(topicId, [partition]);
}

export function sortAssignment(a: TopicAssignment): TopicAssignment {
  for (const list of a.values()) list.sort((x, y) => x - y);
  return a;
}

/** Members in a stable order: by instance id when static (survives restarts of the member), else by member id. */
export function memberOrder(a: AssignorMember, b: AssignorMember): number {
  const ka = a.instanceId ?? a.memberId;
  const kb = b.instanceId ?? b.memberId;
  return ka < kb ? -1 : ka > kb ? 1 : a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0;
}
