//! `rapport bench resolve --book …`: the steward's queue of each book as
//! the items a steward decides (pairs with evidence beyond a name, and one
//! group per name shared by namesakes), against the truth: how many items
//! there are to read, where the true duplicates are (pair items or inside
//! name groups), and how many look-alike pairs a group's "different"
//! settles at once, and how many true duplicates the first 20, 50, 100 and
//! 200 items (and pairs of the plain list) hold.
//!
//! It must never measure anything itself: it prints what `bench::book`
//! counted.

use rapport::bench::book::{FIRSTS, FirstN, SuspectQueue};

pub fn print(queues: &[(usize, SuspectQueue)]) {
    println!();
    println!(
        "| companies | kind | pairs (of one company or person) | items (true pairs they hold) | pair items (of one) | name groups (holding one) | pairs in groups: of one, look-alikes |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (customers, q) in queues {
        for (kind, share) in [("organisations", &q.organisations), ("people", &q.people)] {
            let i = &share.items;
            println!(
                "| {customers} | {kind} | {} ({}) | {} ({}) | {} ({}) | {} ({}) | {}: {}, {} |",
                share.pairs,
                share.same,
                i.items,
                i.pair_items_same + i.group_pairs_same,
                i.pair_items,
                i.pair_items_same,
                i.name_groups,
                i.name_groups_with_same,
                i.group_pairs,
                i.group_pairs_same,
                i.group_pairs_look_alike,
            );
        }
    }
    println!();
    let depths = |f: &dyn Fn(&FirstN) -> usize, firsts: &[FirstN]| {
        firsts
            .iter()
            .map(|x| f(x).to_string())
            .collect::<Vec<_>>()
            .join(" / ")
    };
    let heads: Vec<String> = FIRSTS.iter().map(usize::to_string).collect();
    let heads = heads.join("/");
    println!(
        "| companies | kind | first {heads} items: holding one | true pairs they show | first {heads} pairs: of one |"
    );
    println!("|---|---|---|---|---|");
    for (customers, q) in queues {
        for (kind, share) in [("organisations", &q.organisations), ("people", &q.people)] {
            let f = &share.items.firsts;
            println!(
                "| {customers} | {kind} | {} | {} | {} |",
                depths(&|x| x.items_with_same, f),
                depths(&|x| x.items_same_pairs, f),
                depths(&|x| x.pairs_same, f),
            );
        }
    }
}
