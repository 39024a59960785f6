// Wires each served API key to its handler.

import { register, handlers } from "./registry.ts";
import { handleApiVersions } from "./api-versions.ts";
import { handleMetadata } from "./metadata.ts";
import { handleProduce } from "./produce.ts";
import { handleFetch } from "./fetch.ts";
import { handleListOffsets } from "./list-offsets.ts";
import { handleCreateTopics } from "./create-topics.ts";
import { handleDeleteTopics } from "./delete-topics.ts";
import { handleDescribeConfigs, handleAlterConfigs, handleIncrementalAlterConfigs } from "./configs.ts";
import { handleCreatePartitions, handleDeleteRecords, handleDescribeCluster } from "./partitions-admin.ts";
import { handleInitProducerId, handleAddPartitionsToTxn, handleAddOffsetsToTxn, handleEndTxn } from "./transactions.ts";

register(0, handleProduce);
register(1, handleFetch);
register(2, handleListOffsets);
register(3, handleMetadata);
register(18, handleApiVersions);
register(19, handleCreateTopics);
register(20, handleDeleteTopics);
register(21, handleDeleteRecords);
register(22, handleInitProducerId);
register(24, handleAddPartitionsToTxn);
register(25, handleAddOffsetsToTxn);
register(26, handleEndTxn);
register(32, handleDescribeConfigs);
register(33, handleAlterConfigs);
register(37, handleCreatePartitions);
register(44, handleIncrementalAlterConfigs);
register(60, handleDescribeCluster);

export { handlers };
