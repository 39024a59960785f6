// The part of the topic registry consumer groups look at: names, ids and
// partition counts. Passed in by the broker so the group code stays testable.

export interface TopicInfo {
  readonly name: string;
  /** 32 hex digits. */
  readonly id: string;
  readonly partitions: number;
  readonly internal: boolean;
}

export interface TopicView {
  byName(name: string): TopicInfo | undefined;
  byId(id: string): TopicInfo | undefined;
  all(): Iterable<TopicInfo>;
}

export const NO_TOPICS: TopicView = {
  byName: () => undefined,
  byId: () => undefined,
  all: () => [],
};
