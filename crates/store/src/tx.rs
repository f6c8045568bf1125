//! The audit batch a write must present to commit.

use domain::audit::AuditDraft;

/// One or more audit drafts: never empty, by construction.
#[derive(Debug, Clone)]
pub struct AuditBatch {
    first: AuditDraft,
    rest: Vec<AuditDraft>,
}

impl AuditBatch {
    pub fn one(d: AuditDraft) -> Self {
        AuditBatch {
            first: d,
            rest: Vec::new(),
        }
    }
    pub fn many(first: AuditDraft, rest: Vec<AuditDraft>) -> Self {
        AuditBatch { first, rest }
    }
    /// Builds a batch from a list; `None` when it is empty.
    pub fn from_vec(mut v: Vec<AuditDraft>) -> Option<Self> {
        if v.is_empty() {
            return None;
        }
        let first = v.remove(0);
        Some(AuditBatch { first, rest: v })
    }
    pub fn into_vec(self) -> Vec<AuditDraft> {
        let mut v = Vec::with_capacity(1 + self.rest.len());
        v.push(self.first);
        v.extend(self.rest);
        v
    }
}
