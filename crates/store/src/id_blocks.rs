//! Contact ids reserved in blocks by one execution environment (see
//! `Store::allocate_contact_id`). Shared by every clone of a `Store`.

use model::domain::{ContactId, WorkspaceId};
use std::collections::HashMap;
use std::ops::RangeInclusive;
use std::sync::{Arc, Mutex};

/// The largest block: at most this many ids are lost when an environment ends.
const MAX_BLOCK: u64 = 64;

#[derive(Debug, Clone, Default)]
pub(crate) struct IdBlocks(Arc<Mutex<HashMap<WorkspaceId, Block>>>);

#[derive(Debug)]
struct Block {
    next: u64,
    last: u64,
    /// The size of the block these ids came from.
    size: u64,
}

impl IdBlocks {
    /// An id from the workspace's block, or the size of the block to reserve next.
    pub fn take(&self, ws: &WorkspaceId) -> Result<ContactId, u64> {
        let mut blocks = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match blocks.get_mut(ws) {
            Some(b) if b.next <= b.last => {
                b.next += 1;
                Ok(ContactId(b.next - 1))
            }
            Some(b) => Err((b.size * 2).min(MAX_BLOCK)),
            None => Err(1),
        }
    }

    /// Keeps a newly reserved block and hands out its first id. A block reserved at the
    /// same time by another task replaces this one's rest (those ids become gaps).
    pub fn keep(&self, ws: &WorkspaceId, ids: RangeInclusive<u64>) -> ContactId {
        let (first, last) = ids.into_inner();
        let block = Block { next: first + 1, last, size: last + 1 - first };
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(ws.clone(), block);
        ContactId(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_double_up_to_the_largest_and_ids_are_handed_out_once() {
        let (blocks, ws) = (IdBlocks::default(), WorkspaceId::parse("acme").unwrap());
        let mut handed = Vec::new();
        let mut sequence = 0;
        let mut sizes = Vec::new();
        for _ in 0..200 {
            let id = match blocks.take(&ws) {
                Ok(id) => id,
                Err(size) => {
                    sizes.push(size);
                    sequence += size;
                    blocks.keep(&ws, sequence + 1 - size..=sequence)
                }
            };
            handed.push(id.0);
        }
        assert_eq!(handed, (1..=200).collect::<Vec<_>>());
        assert_eq!(&sizes[..8], &[1, 2, 4, 8, 16, 32, 64, 64]);
    }
}
