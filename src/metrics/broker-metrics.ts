// What /metrics reports. Request, connection and byte counters are kept as
// things happen (the connection calls in); topic, log and group figures are
// read from broker state at scrape time.

import { apis } from "../../generated/index.ts";
import type * as FetchResponse from "../../generated/FetchResponse.ts";
import type * as ProduceRequest from "../../generated/ProduceRequest.ts";
import { recordsLength } from "../protocol/generated-support.ts";
import { HEADER_SIZE } from "../log/batch-header.ts";
import { readBatchHeader } from "../protocol/records.ts";
import type { Broker } from "../broker.ts";
import { fsyncSeconds } from "../log/fsync-stats.ts";
import { memoryVolumeOf } from "../log/memory-volume.ts";
import { Counter, Histogram, renderCounter, renderGauge, type Labels } from "./prometheus.ts";

export type CloseReason = "client" | "protocol_error" | "internal_error" | "shutdown" | "limit" | "idle";

export class BrokerMetrics {
  readonly requests = new Counter("klite_requests_total", "Requests answered, by API and version.");
  readonly requestFailures = new Counter("klite_request_failures_total", "Requests that ended their connection (undecodable, unsupported, or a broker error), by API and version.");
  readonly requestSeconds = new Histogram("klite_request_duration_seconds", "Time from a request's arrival to its response being ready, by API and version.");
  readonly connectionsClosed = new Counter("klite_connections_closed_total", "Client connections closed, by reason.");
  readonly produceBytes = new Counter("klite_produce_bytes_total", "Bytes of record batches received in Produce requests, per topic (accepted or not).");
  readonly produceRecords = new Counter("klite_produce_records_total", "Records received in Produce requests, per topic (accepted or not; from the batch headers).");
  readonly fetchBytes = new Counter("klite_fetch_bytes_total", "Bytes of record batches sent in Fetch responses, per topic.");
  /** Plain numbers: these move on every socket read and write. */
  bytesIn = 0;
  bytesOut = 0;
  openConnections = 0;
  connectionsOpened = 0;
  retentionSegmentsDeleted = 0;
  retentionBytesDeleted = 0;

  constructor(private readonly broker: Broker) {}

  request(apiKey: number, version: number, seconds: number): void {
    const labels = { api: apis.get(apiKey)?.name ?? String(apiKey), version };
    this.requests.inc(labels);
    this.requestSeconds.observe(labels, seconds);
  }

  failure(apiKey: number, version: number): void {
    this.requestFailures.inc({ api: apis.get(apiKey)?.name ?? String(apiKey), version });
  }

  opened(): void {
    this.openConnections++;
    this.connectionsOpened++;
  }

  closed(reason: CloseReason): void {
    this.openConnections--;
    this.connectionsClosed.inc({ reason });
  }

  /** Produce v3+ carries one batch per partition; its header has the record count. */
  produced(req: ProduceRequest.ProduceRequest): void {
    for (const t of req.topicData) {
      const topic = t.name || this.broker.topics.getById(t.topicId)?.name || t.topicId;
      for (const p of t.partitionData) {
        const r = p.records;
        if (!r) continue;
        this.produceBytes.inc({ topic }, r.length);
        if (r.length >= HEADER_SIZE) this.produceRecords.inc({ topic }, Math.max(0, readBatchHeader(r, 0).recordCount));
      }
    }
  }

  fetched(res: FetchResponse.FetchResponseInit): void {
    for (const t of res.responses ?? []) {
      let bytes = 0;
      for (const p of t.partitions ?? []) if (p.records) bytes += recordsLength(p.records);
      if (bytes > 0) this.fetchBytes.inc({ topic: t.topic || this.broker.topics.getById(t.topicId ?? "")?.name || (t.topicId ?? "") }, bytes);
    }
  }

  render(): string {
    const out: string[] = [];
    for (const m of [this.requests, this.requestFailures, this.requestSeconds, this.connectionsClosed, this.produceBytes, this.produceRecords, this.fetchBytes]) m.render(out);
    renderCounter(out, "klite_connections_opened_total", "Client connections accepted.", this.connectionsOpened);
    renderCounter(out, "klite_network_received_bytes_total", "Bytes received from clients.", this.bytesIn);
    renderCounter(out, "klite_network_sent_bytes_total", "Bytes of responses handed to client sockets.", this.bytesOut);
    renderGauge(out, "klite_connections", "Client connections open now.", [[{}, this.openConnections]]);
    const b = this.broker;
    fsyncSeconds.render(out);
    const c = b.cleaner.totals;
    renderCounter(out, "klite_log_cleaner_runs_total", "Cleans of a compacted partition finished.", c.cleans);
    renderCounter(out, "klite_log_cleaner_failures_total", "Cleans that failed (the partition is left uncleaned until restart).", c.failures);
    renderCounter(out, "klite_log_cleaner_read_bytes_total", "Bytes of segments the cleaner read.", c.bytesRead);
    renderCounter(out, "klite_log_cleaner_written_bytes_total", "Bytes of cleaned segments the cleaner wrote.", c.bytesWritten);
    renderCounter(out, "klite_log_cleaner_removed_records_total", "Records compaction removed (superseded, tombstones past their horizon, aborted).", c.recordsRemoved);
    renderCounter(out, "klite_log_cleaner_seconds_total", "Wall time spent cleaning, pauses between slices included.", c.ms / 1000);
    renderCounter(out, "klite_log_retention_deleted_segments_total", "Segments deleted by retention.ms / retention.bytes.", this.retentionSegmentsDeleted);
    renderCounter(out, "klite_log_retention_deleted_bytes_total", "Bytes of segments deleted by retention.ms / retention.bytes.", this.retentionBytesDeleted);
    const volume = memoryVolumeOf(b.options.dataDir);
    if (volume) renderGauge(out, "klite_memory_storage_bytes", "Bytes the in-memory data dir (--memory) holds, spare capacity included.", [[{}, volume.bytes()]]);
    const partitions: [Labels, number][] = [];
    const sizes: [Labels, number][] = [];
    const segments: [Labels, number][] = [];
    const ends = new Map<string, number>();
    for (const t of b.topics.all()) {
      for (const p of t.partitions) {
        const labels = { topic: t.name, partition: p.index };
        partitions.push([labels, p.log.logEndOffset]);
        sizes.push([labels, p.log.sizeBytes()]);
        segments.push([labels, p.log.segmentCount]);
        ends.set(`${t.name}\0${p.index}`, p.log.logEndOffset);
      }
    }
    renderGauge(out, "klite_log_end_offset", "Next offset to be written, per partition.", partitions);
    renderGauge(out, "klite_log_size_bytes", "Bytes of segment files, per partition.", sizes);
    renderGauge(out, "klite_log_segments", "Segments, per partition.", segments);
    const groups = b.groups.listGroups([], []);
    const byState = new Map<string, [Labels, number]>();
    for (const g of groups) {
      const labels = { type: g.groupType, state: g.groupState };
      const k = JSON.stringify(labels);
      const cur = byState.get(k);
      if (cur) cur[1]++;
      else byState.set(k, [labels, 1]);
    }
    renderGauge(out, "klite_groups", "Groups, by type and state.", byState.values());
    const members: [Labels, number][] = [];
    const classic = b.groups.describeGroups(groups.filter((g) => g.groupType === "classic").map((g) => g.groupId));
    for (const g of classic) if (g.errorCode === 0) members.push([{ group: g.groupId, type: "classic" }, g.members.length]);
    for (const g of b.groups.describeConsumerGroups(groups.filter((g) => g.groupType === "consumer").map((g) => g.groupId))) {
      if (g.errorCode === 0) members.push([{ group: g.groupId, type: "consumer" }, g.members.length]);
    }
    for (const g of b.share.describeGroups(groups.filter((g) => g.groupType === "share").map((g) => g.groupId))) {
      if (g.errorCode === 0) members.push([{ group: g.groupId, type: "share" }, g.members.length]);
    }
    renderGauge(out, "klite_group_members", "Members, per group.", members);
    const lag: [Labels, number][] = [];
    for (const g of groups) {
      const offsets = b.groups.fetchOffsets(g.groupId, null, -1, null, false);
      for (const t of offsets.topics) {
        for (const p of t.partitions) {
          const end = ends.get(`${t.topic}\0${p.partition}`);
          if (end === undefined || p.offset < 0n) continue;
          lag.push([{ group: g.groupId, topic: t.topic, partition: p.partition }, Math.max(0, end - Number(p.offset))]);
        }
      }
    }
    renderGauge(out, "klite_group_lag", "Log end offset minus the committed offset, per group and partition.", lag);
    return out.join("\n") + "\n";
  }
}
