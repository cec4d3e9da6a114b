//! The next invoice the subscription page shows, kept a minute per subscription: the
//! page is read far more often than the provider's answer changes, and each answer is a
//! provider call.

use lru::LruCache;
use std::num::NonZeroUsize;
use std::sync::Mutex;

/// How long an answer is reused (Unix ms).
const KEEP_MS: i64 = 60_000;
/// Subscriptions remembered at most; the least recently read go first.
const CAPACITY: usize = 10_000;

/// (date in Unix ms, amount formatted), or None when the provider had none.
pub type NextInvoice = Option<(i64, String)>;

pub struct UpcomingInvoices {
    answers: Mutex<LruCache<String, (i64, NextInvoice)>>,
}

impl Default for UpcomingInvoices {
    fn default() -> Self {
        Self {
            answers: Mutex::new(LruCache::new(
                NonZeroUsize::new(CAPACITY).unwrap_or(NonZeroUsize::MIN),
            )),
        }
    }
}

impl UpcomingInvoices {
    /// The answer kept for `subscription` if it is younger than a minute.
    pub fn get(&self, subscription: &str, now: i64) -> Option<NextInvoice> {
        let mut answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        match answers.get(subscription) {
            Some((at, answer)) if now.saturating_sub(*at) < KEEP_MS => Some(answer.clone()),
            _ => None,
        }
    }

    pub fn put(&self, subscription: &str, answer: NextInvoice, now: i64) {
        let mut answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        answers.put(subscription.to_string(), (now, answer));
    }

    /// Forgets a subscription's answer (it changed: cancelled, resumed, renewed).
    pub fn forget(&self, subscription: &str) {
        let mut answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        answers.pop(subscription);
    }
}

#[cfg(test)]
mod tests {
    use super::UpcomingInvoices;

    #[test]
    fn an_answer_is_reused_for_a_minute_then_asked_again() {
        let cache = UpcomingInvoices::default();
        assert_eq!(cache.get("sub_1", 0), None);
        cache.put("sub_1", Some((5, "$20.00".into())), 1_000);
        assert_eq!(cache.get("sub_1", 60_999), Some(Some((5, "$20.00".into()))));
        assert_eq!(cache.get("sub_1", 61_000), None);
        cache.put("sub_1", None, 61_000);
        assert_eq!(cache.get("sub_1", 61_001), Some(None));
        cache.forget("sub_1");
        assert_eq!(cache.get("sub_1", 61_002), None);
    }
}
