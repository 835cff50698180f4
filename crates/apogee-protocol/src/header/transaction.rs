//! Transaction headers: END_TRANSACTION (37, producer → broker, oneway) and
//! CHECK_TRANSACTION_STATE (39, broker → producer, oneway).

use crate::message::sysflag;

command_header! {
    /// Commits or rolls back a half message (`EndTransactionRequestHeader`).
    pub struct EndTransactionRequestHeader {
        /// The producer group; must match the half message's `PGROUP`.
        required producer_group: String => "producerGroup",
        /// The half message's consume-queue offset (from the send result).
        required tran_state_table_offset: i64 => "tranStateTableOffset",
        /// The half message's commit-log offset (from its offset msgId).
        required commit_log_offset: i64 => "commitLogOffset",
        /// [`sysflag::TRANSACTION_COMMIT`] (8), [`sysflag::TRANSACTION_ROLLBACK`] (12) or
        /// [`sysflag::TRANSACTION_NOT_TYPE`] (0, unknown).
        required commit_or_rollback: i32 => "commitOrRollback",
        /// Whether this answers a check-back; Java always sends it, `false` by default.
        optional from_transaction_check: bool => "fromTransactionCheck",
        /// The message's `UNIQ_KEY`.
        required msg_id: String => "msgId",
        /// The transaction id.
        optional transaction_id: String => "transactionId",
        /// 5.x: the topic.
        optional topic: String => "topic",
    }
}

impl EndTransactionRequestHeader {
    /// Whether the producer commits.
    #[must_use]
    pub fn is_commit(&self) -> bool {
        self.commit_or_rollback == sysflag::TRANSACTION_COMMIT
    }

    /// Whether the producer rolls back.
    #[must_use]
    pub fn is_rollback(&self) -> bool {
        self.commit_or_rollback == sysflag::TRANSACTION_ROLLBACK
    }

    /// Whether this answers a check-back (an absent flag means no).
    #[must_use]
    pub fn is_from_transaction_check(&self) -> bool {
        self.from_transaction_check.unwrap_or(false)
    }
}

command_header! {
    /// Asks a producer for the state of a half message (`CheckTransactionStateRequestHeader`);
    /// the body is the encoded message.
    pub struct CheckTransactionStateRequestHeader {
        /// The consume-queue offset of the current half copy.
        required tran_state_table_offset: i64 => "tranStateTableOffset",
        /// The commit-log offset of the current half copy.
        required commit_log_offset: i64 => "commitLogOffset",
        /// The message's `UNIQ_KEY`.
        optional msg_id: String => "msgId",
        /// The transaction id (also the `UNIQ_KEY`).
        optional transaction_id: String => "transactionId",
        /// The offset message id of the current half copy.
        optional offset_msg_id: String => "offsetMsgId",
        /// 5.x: the real topic.
        optional topic: String => "topic",
        /// 5.x: the broker name (base-class key `bname`).
        optional broker_name: String => "bname",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::test_util::{assert_fixture, assert_invalid, assert_required};

    /// END_TRANSACTION as a 4.9.8 producer sends it after a local commit.
    #[test]
    fn end_transaction() {
        let fixture = &[
            ("producerGroup", "pg"),
            ("tranStateTableOffset", "7"),
            ("commitLogOffset", "4096"),
            ("commitOrRollback", "8"),
            ("fromTransactionCheck", "false"),
            ("msgId", "AC110001000018B4AAC2"),
            ("transactionId", "AC110001000018B4AAC2"),
        ];
        let header = EndTransactionRequestHeader {
            producer_group: "pg".into(),
            tran_state_table_offset: 7,
            commit_log_offset: 4096,
            commit_or_rollback: 8,
            from_transaction_check: Some(false),
            msg_id: "AC110001000018B4AAC2".into(),
            transaction_id: Some("AC110001000018B4AAC2".into()),
            topic: None,
        };
        assert_fixture(fixture, &header);
        assert_required::<EndTransactionRequestHeader>(
            fixture,
            &[
                "producerGroup",
                "tranStateTableOffset",
                "commitLogOffset",
                "commitOrRollback",
                "msgId",
            ],
        );
        assert_invalid::<EndTransactionRequestHeader>(fixture, "commitOrRollback");
        assert!(header.is_commit() && !header.is_rollback());
        assert!(!header.is_from_transaction_check());
    }

    /// CHECK_TRANSACTION_STATE as the broker sends it.
    #[test]
    fn check_transaction_state() {
        let fixture = &[
            ("tranStateTableOffset", "9"),
            ("commitLogOffset", "8192"),
            ("msgId", "AC110001000018B4AAC2"),
            ("transactionId", "AC110001000018B4AAC2"),
            ("offsetMsgId", "0A0000010000291F0000000000002000"),
        ];
        let header = CheckTransactionStateRequestHeader {
            tran_state_table_offset: 9,
            commit_log_offset: 8192,
            msg_id: Some("AC110001000018B4AAC2".into()),
            transaction_id: Some("AC110001000018B4AAC2".into()),
            offset_msg_id: Some("0A0000010000291F0000000000002000".into()),
            topic: None,
            broker_name: None,
        };
        assert_fixture(fixture, &header);
        assert_required::<CheckTransactionStateRequestHeader>(
            fixture,
            &["tranStateTableOffset", "commitLogOffset"],
        );
    }
}
