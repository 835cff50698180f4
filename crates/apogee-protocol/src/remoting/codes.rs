//! Request codes, response codes, protocol versions and client languages.
//!
//! Values are RocketMQ's (`RequestCode.java`, `ResponseCode.java` extending
//! `RemotingSysResponseCode.java`, `MQVersion.java`, `LanguageCode.java`). Codes are plain `i32`
//! constants rather than enums because the wire carries any integer and an unknown request code
//! must still reach the dispatcher, which answers [`response::REQUEST_CODE_NOT_SUPPORTED`].

/// Request codes (`RequestCode.java`): the subset this broker, name server and client use.
pub mod request {
    /// Send one message with the long-named `SendMessageRequestHeader`.
    pub const SEND_MESSAGE: i32 = 10;
    /// Pull messages from a queue (may be held by long polling).
    pub const PULL_MESSAGE: i32 = 11;
    /// Look up messages by key in the index.
    pub const QUERY_MESSAGE: i32 = 12;
    /// Read a group's committed offset for a queue.
    pub const QUERY_CONSUMER_OFFSET: i32 = 14;
    /// Commit a group's offset for a queue (usually oneway).
    pub const UPDATE_CONSUMER_OFFSET: i32 = 15;
    /// Create or update a topic on a broker.
    pub const UPDATE_AND_CREATE_TOPIC: i32 = 17;
    /// Fetch every topic config (slave metadata sync).
    pub const GET_ALL_TOPIC_CONFIG: i32 = 21;
    /// Find the queue offset of the first message stored at or after a timestamp.
    pub const SEARCH_OFFSET_BY_TIMESTAMP: i32 = 29;
    /// Read a queue's max offset (the next offset to be written).
    pub const GET_MAX_OFFSET: i32 = 30;
    /// Read a queue's min offset.
    pub const GET_MIN_OFFSET: i32 = 31;
    /// Client → broker: the store time of a queue's oldest message.
    pub const GET_EARLIEST_MSG_STORETIME: i32 = 32;
    /// Read one stored record by commit-log offset.
    pub const VIEW_MESSAGE_BY_ID: i32 = 33;
    /// Client heartbeat with its producer and consumer groups (JSON body).
    pub const HEART_BEAT: i32 = 34;
    /// A client leaves its groups.
    pub const UNREGISTER_CLIENT: i32 = 35;
    /// A consumer returns a message for retry or the dead-letter queue.
    pub const CONSUMER_SEND_MSG_BACK: i32 = 36;
    /// Commit or roll back a half (transactional) message; oneway.
    pub const END_TRANSACTION: i32 = 37;
    /// List the client ids of a consumer group.
    pub const GET_CONSUMER_LIST_BY_GROUP: i32 = 38;
    /// Broker → producer: ask for a transaction's state; oneway.
    pub const CHECK_TRANSACTION_STATE: i32 = 39;
    /// Broker → consumer: the group's membership changed, rebalance now; oneway.
    pub const NOTIFY_CONSUMER_IDS_CHANGED: i32 = 40;
    /// Lock queues for orderly consumption.
    pub const LOCK_BATCH_MQ: i32 = 41;
    /// Release queue locks.
    pub const UNLOCK_BATCH_MQ: i32 = 42;
    /// Fetch every consumer offset (slave metadata sync).
    pub const GET_ALL_CONSUMER_OFFSET: i32 = 43;
    /// Fetch the schedule (delay) offsets (slave metadata sync).
    pub const GET_ALL_DELAY_OFFSET: i32 = 45;
    /// Broker → name server: register (and refresh) the broker and its topics.
    pub const REGISTER_BROKER: i32 = 103;
    /// Broker → name server: remove the broker.
    pub const UNREGISTER_BROKER: i32 = 104;
    /// Client → name server: the route of a topic.
    pub const GET_ROUTEINFO_BY_TOPIC: i32 = 105;
    /// Client → name server: the cluster map.
    pub const GET_BROKER_CLUSTER_INFO: i32 = 106;
    /// Fetch every subscription-group config (slave metadata sync).
    pub const GET_ALL_SUBSCRIPTIONGROUP_CONFIG: i32 = 201;
    /// Admin → name server: every topic with a route (body `{"topicList":[...]}`).
    pub const GET_ALL_TOPIC_LIST_FROM_NAMESERVER: i32 = 206;
    /// Admin → broker: delete a topic and its queues.
    pub const DELETE_TOPIC_IN_BROKER: i32 = 215;
    /// Admin → name server: remove a topic's route.
    pub const DELETE_TOPIC_IN_NAMESRV: i32 = 216;
    /// Broker → consumer: reset the consumer's offsets.
    pub const RESET_CONSUMER_CLIENT_OFFSET: i32 = 220;
    /// Broker → consumer: report the consumer's offsets.
    pub const GET_CONSUMER_STATUS_FROM_CLIENT: i32 = 221;
    /// Broker → consumer: report the consumer's running state.
    pub const GET_CONSUMER_RUNNING_INFO: i32 = 307;
    /// Broker → consumer: consume one given message right away.
    pub const CONSUME_MESSAGE_DIRECTLY: i32 = 309;
    /// Send one message with the one-letter-key `SendMessageRequestHeaderV2`.
    pub const SEND_MESSAGE_V2: i32 = 310;
    /// Send a batch of messages (V2 header, batch body).
    pub const SEND_BATCH_MESSAGE: i32 = 320;
    /// Broker → name server: has the registered data version changed?
    pub const QUERY_DATA_VERSION: i32 = 322;
    /// Broker → name server: lightweight liveness (5.x).
    pub const BROKER_HEARTBEAT: i32 = 904;
}

/// Response codes (`ResponseCode.java` and `RemotingSysResponseCode.java`).
pub mod response {
    /// The request succeeded.
    pub const SUCCESS: i32 = 0;
    /// Generic failure; the remark says why.
    pub const SYSTEM_ERROR: i32 = 1;
    /// The server is overloaded or refuses the request for now; retry later.
    pub const SYSTEM_BUSY: i32 = 2;
    /// No processor handles this request code.
    pub const REQUEST_CODE_NOT_SUPPORTED: i32 = 3;
    /// A transaction operation failed.
    pub const TRANSACTION_FAILED: i32 = 4;
    /// Stored, but the synchronous flush did not finish in time.
    pub const FLUSH_DISK_TIMEOUT: i32 = 10;
    /// Stored, but no slave is available for a synchronous-replication broker.
    pub const SLAVE_NOT_AVAILABLE: i32 = 11;
    /// Stored, but the slave did not acknowledge in time.
    pub const FLUSH_SLAVE_TIMEOUT: i32 = 12;
    /// The message is malformed or too large.
    pub const MESSAGE_ILLEGAL: i32 = 13;
    /// The service (e.g. the store on a slave) cannot take the request.
    pub const SERVICE_NOT_AVAILABLE: i32 = 14;
    /// The client's protocol version is not supported.
    pub const VERSION_NOT_SUPPORTED: i32 = 15;
    /// The broker or topic does not permit the operation.
    pub const NO_PERMISSION: i32 = 16;
    /// The topic does not exist and may not be auto-created.
    pub const TOPIC_NOT_EXIST: i32 = 17;
    /// The topic already exists.
    pub const TOPIC_EXIST_ALREADY: i32 = 18;
    /// Pull: no new message (after the long-poll wait).
    pub const PULL_NOT_FOUND: i32 = 19;
    /// Pull: retry at once (e.g. transfer cap reached).
    pub const PULL_RETRY_IMMEDIATELY: i32 = 20;
    /// Pull: the requested offset is outside the queue; the header gives the next offset.
    pub const PULL_OFFSET_MOVED: i32 = 21;
    /// Query: nothing found.
    pub const QUERY_NOT_FOUND: i32 = 22;
    /// The subscription expression does not parse.
    pub const SUBSCRIPTION_PARSE_FAILED: i32 = 23;
    /// The consumer's subscription is unknown to the broker.
    pub const SUBSCRIPTION_NOT_EXIST: i32 = 24;
    /// The consumer's subscription version is older than the broker's.
    pub const SUBSCRIPTION_NOT_LATEST: i32 = 25;
    /// The subscription group does not exist and may not be auto-created.
    pub const SUBSCRIPTION_GROUP_NOT_EXIST: i32 = 26;
    /// Filter data is missing (class filter).
    pub const FILTER_DATA_NOT_EXIST: i32 = 27;
    /// Filter data is outdated (class filter).
    pub const FILTER_DATA_NOT_LATEST: i32 = 28;
    /// A request parameter is invalid (5.x; 4.x often uses [`SYSTEM_ERROR`]).
    pub const INVALID_PARAMETER: i32 = 29;
    /// Check-back answer: commit the half message.
    pub const TRANSACTION_SHOULD_COMMIT: i32 = 200;
    /// Check-back answer: roll back the half message.
    pub const TRANSACTION_SHOULD_ROLLBACK: i32 = 201;
    /// Check-back answer: state unknown, ask again later (sic: Java spells it `UNKNOW`).
    pub const TRANSACTION_STATE_UNKNOW: i32 = 202;
    /// Check-back: the producer group does not match.
    pub const TRANSACTION_STATE_GROUP_WRONG: i32 = 203;
    /// No buyer id (unit mode).
    pub const NO_BUYER_ID: i32 = 204;
    /// Not in the current unit (unit mode).
    pub const NOT_IN_CURRENT_UNIT: i32 = 205;
    /// The consumer is not connected.
    pub const CONSUMER_NOT_ONLINE: i32 = 206;
    /// Direct consumption timed out.
    pub const CONSUME_MSG_TIMEOUT: i32 = 207;
    /// No message (admin queries).
    pub const NO_MESSAGE: i32 = 208;
    /// 5.x POP: the long-polling queue is full.
    pub const POLLING_FULL: i32 = 209;
    /// 5.x POP: long polling timed out.
    pub const POLLING_TIMEOUT: i32 = 210;
    /// 5.x: the named broker does not exist.
    pub const BROKER_NOT_EXIST: i32 = 211;
    /// 5.x: dispatch to consume queues has not caught up.
    pub const BROKER_DISPATCH_NOT_COMPLETE: i32 = 212;
    /// 5.x: broadcast consumption is not supported here.
    pub const BROADCAST_CONSUMPTION: i32 = 213;
    /// 5.x: flow control.
    pub const FLOW_CONTROL: i32 = 215;
    /// 5.x static topics: this broker does not lead the queue.
    pub const NOT_LEADER_FOR_QUEUE: i32 = 501;
    /// 5.x: the operation is not allowed.
    pub const ILLEGAL_OPERATION: i32 = 604;
    /// 5.x: the server is shutting down; reconnect elsewhere.
    pub const GO_AWAY: i32 = 1500;
    /// 5.x controller: the master epoch is fenced.
    pub const CONTROLLER_FENCED_MASTER_EPOCH: i32 = 2000;
    /// 5.x controller: the sync-state-set epoch is fenced.
    pub const CONTROLLER_FENCED_SYNC_STATE_SET_EPOCH: i32 = 2001;
    /// 5.x controller: invalid master.
    pub const CONTROLLER_INVALID_MASTER: i32 = 2002;
    /// 5.x controller: invalid replicas.
    pub const CONTROLLER_INVALID_REPLICAS: i32 = 2003;
    /// 5.x controller: no master available.
    pub const CONTROLLER_MASTER_NOT_AVAILABLE: i32 = 2004;
    /// 5.x controller: invalid request.
    pub const CONTROLLER_INVALID_REQUEST: i32 = 2005;
    /// 5.x controller: broker not alive.
    pub const CONTROLLER_BROKER_NOT_ALIVE: i32 = 2006;
    /// 5.x controller: this controller is not the leader.
    pub const CONTROLLER_NOT_LEADER: i32 = 2007;
    /// 5.x controller: broker metadata does not exist.
    pub const CONTROLLER_BROKER_METADATA_NOT_EXIST: i32 = 2008;
    /// 5.x controller: invalid request to clean broker metadata.
    pub const CONTROLLER_INVALID_CLEAN_BROKER_METADATA: i32 = 2009;
    /// 5.x controller: the broker must register first.
    pub const CONTROLLER_BROKER_NEED_TO_BE_REGISTERED: i32 = 2010;
    /// 5.x controller: a master still exists.
    pub const CONTROLLER_MASTER_STILL_EXIST: i32 = 2011;
    /// 5.x controller: master election failed.
    pub const CONTROLLER_ELECT_MASTER_FAILED: i32 = 2012;
    /// 5.x controller: altering the sync state set failed.
    pub const CONTROLLER_ALTER_SYNC_STATE_SET_FAILED: i32 = 2013;
    /// 5.x controller: invalid broker id.
    pub const CONTROLLER_BROKER_ID_INVALID: i32 = 2014;
    /// 5.x controller: internal JRaft error.
    pub const CONTROLLER_JRAFT_INTERNAL_ERROR: i32 = 2015;
    /// 5.x controller: broker live info does not exist.
    pub const CONTROLLER_BROKER_LIVE_INFO_NOT_EXISTS: i32 = 2016;
    /// 5.3+ auth: the user does not exist.
    pub const USER_NOT_EXIST: i32 = 3001;
    /// 5.3+ auth: the policy does not exist.
    pub const POLICY_NOT_EXIST: i32 = 3002;

    /// RocketMQ's name for a response code (`SUCCESS`, `SYSTEM_BUSY`, ...), or `UNKNOWN` for a
    /// code this crate does not know; for messages that people read.
    #[must_use]
    pub fn name(code: i32) -> &'static str {
        match code {
            SUCCESS => "SUCCESS",
            SYSTEM_ERROR => "SYSTEM_ERROR",
            SYSTEM_BUSY => "SYSTEM_BUSY",
            REQUEST_CODE_NOT_SUPPORTED => "REQUEST_CODE_NOT_SUPPORTED",
            TRANSACTION_FAILED => "TRANSACTION_FAILED",
            FLUSH_DISK_TIMEOUT => "FLUSH_DISK_TIMEOUT",
            SLAVE_NOT_AVAILABLE => "SLAVE_NOT_AVAILABLE",
            FLUSH_SLAVE_TIMEOUT => "FLUSH_SLAVE_TIMEOUT",
            MESSAGE_ILLEGAL => "MESSAGE_ILLEGAL",
            SERVICE_NOT_AVAILABLE => "SERVICE_NOT_AVAILABLE",
            VERSION_NOT_SUPPORTED => "VERSION_NOT_SUPPORTED",
            NO_PERMISSION => "NO_PERMISSION",
            TOPIC_NOT_EXIST => "TOPIC_NOT_EXIST",
            TOPIC_EXIST_ALREADY => "TOPIC_EXIST_ALREADY",
            PULL_NOT_FOUND => "PULL_NOT_FOUND",
            PULL_RETRY_IMMEDIATELY => "PULL_RETRY_IMMEDIATELY",
            PULL_OFFSET_MOVED => "PULL_OFFSET_MOVED",
            QUERY_NOT_FOUND => "QUERY_NOT_FOUND",
            SUBSCRIPTION_PARSE_FAILED => "SUBSCRIPTION_PARSE_FAILED",
            SUBSCRIPTION_NOT_EXIST => "SUBSCRIPTION_NOT_EXIST",
            SUBSCRIPTION_NOT_LATEST => "SUBSCRIPTION_NOT_LATEST",
            SUBSCRIPTION_GROUP_NOT_EXIST => "SUBSCRIPTION_GROUP_NOT_EXIST",
            FILTER_DATA_NOT_EXIST => "FILTER_DATA_NOT_EXIST",
            FILTER_DATA_NOT_LATEST => "FILTER_DATA_NOT_LATEST",
            INVALID_PARAMETER => "INVALID_PARAMETER",
            TRANSACTION_SHOULD_COMMIT => "TRANSACTION_SHOULD_COMMIT",
            TRANSACTION_SHOULD_ROLLBACK => "TRANSACTION_SHOULD_ROLLBACK",
            TRANSACTION_STATE_UNKNOW => "TRANSACTION_STATE_UNKNOW",
            TRANSACTION_STATE_GROUP_WRONG => "TRANSACTION_STATE_GROUP_WRONG",
            NO_BUYER_ID => "NO_BUYER_ID",
            NOT_IN_CURRENT_UNIT => "NOT_IN_CURRENT_UNIT",
            CONSUMER_NOT_ONLINE => "CONSUMER_NOT_ONLINE",
            CONSUME_MSG_TIMEOUT => "CONSUME_MSG_TIMEOUT",
            NO_MESSAGE => "NO_MESSAGE",
            POLLING_FULL => "POLLING_FULL",
            POLLING_TIMEOUT => "POLLING_TIMEOUT",
            BROKER_NOT_EXIST => "BROKER_NOT_EXIST",
            BROKER_DISPATCH_NOT_COMPLETE => "BROKER_DISPATCH_NOT_COMPLETE",
            BROADCAST_CONSUMPTION => "BROADCAST_CONSUMPTION",
            FLOW_CONTROL => "FLOW_CONTROL",
            NOT_LEADER_FOR_QUEUE => "NOT_LEADER_FOR_QUEUE",
            ILLEGAL_OPERATION => "ILLEGAL_OPERATION",
            GO_AWAY => "GO_AWAY",
            CONTROLLER_FENCED_MASTER_EPOCH => "CONTROLLER_FENCED_MASTER_EPOCH",
            CONTROLLER_FENCED_SYNC_STATE_SET_EPOCH => "CONTROLLER_FENCED_SYNC_STATE_SET_EPOCH",
            CONTROLLER_INVALID_MASTER => "CONTROLLER_INVALID_MASTER",
            CONTROLLER_INVALID_REPLICAS => "CONTROLLER_INVALID_REPLICAS",
            CONTROLLER_MASTER_NOT_AVAILABLE => "CONTROLLER_MASTER_NOT_AVAILABLE",
            CONTROLLER_INVALID_REQUEST => "CONTROLLER_INVALID_REQUEST",
            CONTROLLER_BROKER_NOT_ALIVE => "CONTROLLER_BROKER_NOT_ALIVE",
            CONTROLLER_NOT_LEADER => "CONTROLLER_NOT_LEADER",
            CONTROLLER_BROKER_METADATA_NOT_EXIST => "CONTROLLER_BROKER_METADATA_NOT_EXIST",
            CONTROLLER_INVALID_CLEAN_BROKER_METADATA => "CONTROLLER_INVALID_CLEAN_BROKER_METADATA",
            CONTROLLER_BROKER_NEED_TO_BE_REGISTERED => "CONTROLLER_BROKER_NEED_TO_BE_REGISTERED",
            CONTROLLER_MASTER_STILL_EXIST => "CONTROLLER_MASTER_STILL_EXIST",
            CONTROLLER_ELECT_MASTER_FAILED => "CONTROLLER_ELECT_MASTER_FAILED",
            CONTROLLER_ALTER_SYNC_STATE_SET_FAILED => "CONTROLLER_ALTER_SYNC_STATE_SET_FAILED",
            CONTROLLER_BROKER_ID_INVALID => "CONTROLLER_BROKER_ID_INVALID",
            CONTROLLER_JRAFT_INTERNAL_ERROR => "CONTROLLER_JRAFT_INTERNAL_ERROR",
            CONTROLLER_BROKER_LIVE_INFO_NOT_EXISTS => "CONTROLLER_BROKER_LIVE_INFO_NOT_EXISTS",
            USER_NOT_EXIST => "USER_NOT_EXIST",
            POLICY_NOT_EXIST => "POLICY_NOT_EXIST",
            _ => "UNKNOWN",
        }
    }
}

/// Protocol versions: ordinals of Java's `MQVersion.Version` enum, sent in the `version` field.
pub mod version {
    /// 3.4.9: the broker honours `maxReconsumeTimes` in send-back from this version on.
    pub const V3_4_9: i32 = 121;
    /// 4.0.0.
    pub const V4_0_0: i32 = 213;
    /// 4.9.4: the name server sends standard (quoted-key) route JSON from this version on.
    pub const V4_9_4: i32 = 401;
    /// 4.9.8: the 4.x release Apogee is compatible with, and the version it sends.
    pub const V4_9_8: i32 = 409;
    /// 5.0.0.
    pub const V5_0_0: i32 = 413;
    /// 5.3.1: during shutdown a 5.x broker answers newer clients with `GO_AWAY`.
    pub const V5_3_1: i32 = 475;
    /// 5.3.3.
    pub const V5_3_3: i32 = 479;
}

/// The implementation language a peer announces (`LanguageCode.java`).
///
/// Java would decode an unknown ordinal or name to `null`; we map it to [`LanguageCode::Other`]
/// so that the command still decodes (the field is informational).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum LanguageCode {
    /// `JAVA` (0), the default of Java's `RemotingCommand`.
    #[default]
    Java,
    /// `CPP` (1).
    Cpp,
    /// `DOTNET` (2).
    DotNet,
    /// `PYTHON` (3).
    Python,
    /// `DELPHI` (4).
    Delphi,
    /// `ERLANG` (5).
    Erlang,
    /// `RUBY` (6).
    Ruby,
    /// `OTHER` (7); also what unknown ordinals and names decode to.
    Other,
    /// `HTTP` (8).
    Http,
    /// `GO` (9).
    Go,
    /// `PHP` (10).
    Php,
    /// `OMS` (11).
    Oms,
    /// `RUST` (12); brokers before 4.9.8 do not know it.
    Rust,
    /// `NODE_JS` (13), 5.x only.
    NodeJs,
}

impl LanguageCode {
    /// Every known language in ordinal order: `ALL[i].ordinal() == i`.
    pub const ALL: [LanguageCode; 14] = [
        Self::Java,
        Self::Cpp,
        Self::DotNet,
        Self::Python,
        Self::Delphi,
        Self::Erlang,
        Self::Ruby,
        Self::Other,
        Self::Http,
        Self::Go,
        Self::Php,
        Self::Oms,
        Self::Rust,
        Self::NodeJs,
    ];

    /// The byte written in the ROCKETMQ header (the Java enum's `code`).
    #[must_use]
    pub const fn ordinal(self) -> u8 {
        self as u8
    }

    /// The language with this ordinal; unknown ordinals give [`LanguageCode::Other`].
    #[must_use]
    pub fn from_ordinal(ordinal: u8) -> Self {
        Self::ALL
            .get(usize::from(ordinal))
            .copied()
            .unwrap_or(Self::Other)
    }

    /// The Java enum constant's name, as written in JSON headers (`"JAVA"`, `"NODE_JS"`).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Java => "JAVA",
            Self::Cpp => "CPP",
            Self::DotNet => "DOTNET",
            Self::Python => "PYTHON",
            Self::Delphi => "DELPHI",
            Self::Erlang => "ERLANG",
            Self::Ruby => "RUBY",
            Self::Other => "OTHER",
            Self::Http => "HTTP",
            Self::Go => "GO",
            Self::Php => "PHP",
            Self::Oms => "OMS",
            Self::Rust => "RUST",
            Self::NodeJs => "NODE_JS",
        }
    }

    /// The language with this name, ignoring ASCII case; unknown names give
    /// [`LanguageCode::Other`].
    #[must_use]
    pub fn from_name(name: &str) -> Self {
        Self::ALL
            .iter()
            .copied()
            .find(|l| l.name().eq_ignore_ascii_case(name))
            .unwrap_or(Self::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ordinals and names agree with `LanguageCode.java` and survive a round trip.
    #[test]
    fn language_ordinals_and_names() {
        for (i, lang) in LanguageCode::ALL.iter().enumerate() {
            assert_eq!(usize::from(lang.ordinal()), i);
            assert_eq!(LanguageCode::from_ordinal(lang.ordinal()), *lang);
            assert_eq!(LanguageCode::from_name(lang.name()), *lang);
        }
        assert_eq!(LanguageCode::Rust.ordinal(), 12);
        assert_eq!(LanguageCode::NodeJs.name(), "NODE_JS");
        assert_eq!(LanguageCode::from_name("go"), LanguageCode::Go);
    }

    /// Unknown ordinals and names decode to OTHER instead of failing.
    #[test]
    fn unknown_language_is_other() {
        assert_eq!(LanguageCode::from_ordinal(14), LanguageCode::Other);
        assert_eq!(LanguageCode::from_ordinal(255), LanguageCode::Other);
        assert_eq!(LanguageCode::from_name("COBOL"), LanguageCode::Other);
        assert_eq!(LanguageCode::from_name(""), LanguageCode::Other);
    }
}
