//! `rapport bench resolve --book …`: the steward's queue of each book as
//! the items a steward decides (pairs with evidence beyond a name, and one
//! group per name shared by namesakes), against the truth: how many items
//! there are to read, where the true duplicates are (pair items or inside
//! name groups), and how many look-alike pairs a group's "different"
//! settles at once.
//!
//! It must never measure anything itself: it prints what `bench::book`
//! counted.

use rapport::bench::book::SuspectQueue;

pub fn print(queues: &[(usize, SuspectQueue)]) {
    println!();
    println!(
        "| companies | kind | pairs | items | pair items (of one company or person) | name groups (holding one) | pairs in groups: of one, look-alikes | first 100 items: holding one, pairs of one (first 100 pairs: of one) |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (customers, q) in queues {
        for (kind, share) in [("organisations", &q.organisations), ("people", &q.people)] {
            let i = &share.items;
            println!(
                "| {customers} | {kind} | {} | {} | {} ({}) | {} ({}) | {}: {}, {} | {}, {} ({}) |",
                share.pairs,
                i.items,
                i.pair_items,
                i.pair_items_same,
                i.name_groups,
                i.name_groups_with_same,
                i.group_pairs,
                i.group_pairs_same,
                i.group_pairs_look_alike,
                i.first_100_items_with_same,
                i.first_100_items_same_pairs,
                i.first_100_pairs_same,
            );
        }
    }
}
