// The APIs the client speaks, each capped at the highest version whose
// fields the client code fills in. Topic-id versions (Produce v13, Fetch
// v13+, OffsetCommit/OffsetFetch v10, DeleteTopics v6) are left out so one
// code path addresses topics by name on every broker from Kafka 2.x to 4.x.

import * as ConsumerGroupDescribeRequest from "../../generated/ConsumerGroupDescribeRequest.ts";
import * as ConsumerGroupDescribeResponse from "../../generated/ConsumerGroupDescribeResponse.ts";
import * as CreatePartitionsRequest from "../../generated/CreatePartitionsRequest.ts";
import * as CreatePartitionsResponse from "../../generated/CreatePartitionsResponse.ts";
import * as CreateTopicsRequest from "../../generated/CreateTopicsRequest.ts";
import * as CreateTopicsResponse from "../../generated/CreateTopicsResponse.ts";
import * as DeleteGroupsRequest from "../../generated/DeleteGroupsRequest.ts";
import * as DeleteGroupsResponse from "../../generated/DeleteGroupsResponse.ts";
import * as DeleteTopicsRequest from "../../generated/DeleteTopicsRequest.ts";
import * as DeleteTopicsResponse from "../../generated/DeleteTopicsResponse.ts";
import * as DescribeConfigsRequest from "../../generated/DescribeConfigsRequest.ts";
import * as DescribeConfigsResponse from "../../generated/DescribeConfigsResponse.ts";
import * as DescribeGroupsRequest from "../../generated/DescribeGroupsRequest.ts";
import * as DescribeGroupsResponse from "../../generated/DescribeGroupsResponse.ts";
import * as FetchRequest from "../../generated/FetchRequest.ts";
import * as FetchResponse from "../../generated/FetchResponse.ts";
import * as FindCoordinatorRequest from "../../generated/FindCoordinatorRequest.ts";
import * as FindCoordinatorResponse from "../../generated/FindCoordinatorResponse.ts";
import * as HeartbeatRequest from "../../generated/HeartbeatRequest.ts";
import * as HeartbeatResponse from "../../generated/HeartbeatResponse.ts";
import * as IncrementalAlterConfigsRequest from "../../generated/IncrementalAlterConfigsRequest.ts";
import * as IncrementalAlterConfigsResponse from "../../generated/IncrementalAlterConfigsResponse.ts";
import * as JoinGroupRequest from "../../generated/JoinGroupRequest.ts";
import * as JoinGroupResponse from "../../generated/JoinGroupResponse.ts";
import * as LeaveGroupRequest from "../../generated/LeaveGroupRequest.ts";
import * as LeaveGroupResponse from "../../generated/LeaveGroupResponse.ts";
import * as ListGroupsRequest from "../../generated/ListGroupsRequest.ts";
import * as ListGroupsResponse from "../../generated/ListGroupsResponse.ts";
import * as ListOffsetsRequest from "../../generated/ListOffsetsRequest.ts";
import * as ListOffsetsResponse from "../../generated/ListOffsetsResponse.ts";
import * as MetadataRequest from "../../generated/MetadataRequest.ts";
import * as MetadataResponse from "../../generated/MetadataResponse.ts";
import * as OffsetCommitRequest from "../../generated/OffsetCommitRequest.ts";
import * as OffsetCommitResponse from "../../generated/OffsetCommitResponse.ts";
import * as OffsetFetchRequest from "../../generated/OffsetFetchRequest.ts";
import * as OffsetFetchResponse from "../../generated/OffsetFetchResponse.ts";
import * as ProduceRequest from "../../generated/ProduceRequest.ts";
import * as ProduceResponse from "../../generated/ProduceResponse.ts";
import * as SyncGroupRequest from "../../generated/SyncGroupRequest.ts";
import * as SyncGroupResponse from "../../generated/SyncGroupResponse.ts";
import { api } from "./connection.ts";

export const Produce = api(0, "Produce", 12, ProduceRequest, ProduceResponse);
export const Fetch = api(1, "Fetch", 12, FetchRequest, FetchResponse);
export const ListOffsets = api(2, "ListOffsets", 9, ListOffsetsRequest, ListOffsetsResponse);
export const Metadata = api(3, "Metadata", 12, MetadataRequest, MetadataResponse);
export const OffsetCommit = api(8, "OffsetCommit", 8, OffsetCommitRequest, OffsetCommitResponse);
export const OffsetFetch = api(9, "OffsetFetch", 7, OffsetFetchRequest, OffsetFetchResponse);
export const FindCoordinator = api(10, "FindCoordinator", 6, FindCoordinatorRequest, FindCoordinatorResponse);
export const JoinGroup = api(11, "JoinGroup", 9, JoinGroupRequest, JoinGroupResponse);
export const Heartbeat = api(12, "Heartbeat", 4, HeartbeatRequest, HeartbeatResponse);
export const LeaveGroup = api(13, "LeaveGroup", 5, LeaveGroupRequest, LeaveGroupResponse);
export const SyncGroup = api(14, "SyncGroup", 5, SyncGroupRequest, SyncGroupResponse);
export const DescribeGroups = api(15, "DescribeGroups", 5, DescribeGroupsRequest, DescribeGroupsResponse);
export const ListGroups = api(16, "ListGroups", 5, ListGroupsRequest, ListGroupsResponse);
export const CreateTopics = api(19, "CreateTopics", 7, CreateTopicsRequest, CreateTopicsResponse);
export const DeleteTopics = api(20, "DeleteTopics", 5, DeleteTopicsRequest, DeleteTopicsResponse);
export const DescribeConfigs = api(32, "DescribeConfigs", 4, DescribeConfigsRequest, DescribeConfigsResponse);
export const CreatePartitions = api(37, "CreatePartitions", 3, CreatePartitionsRequest, CreatePartitionsResponse);
export const DeleteGroups = api(42, "DeleteGroups", 2, DeleteGroupsRequest, DeleteGroupsResponse);
export const IncrementalAlterConfigs = api(44, "IncrementalAlterConfigs", 1, IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse);
export const ConsumerGroupDescribe = api(69, "ConsumerGroupDescribe", 1, ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponse);
