use super::write_encoded_ahead;
use crate::store::{StoreError, corrupt};

fn failure(key: usize) -> StoreError {
    corrupt(&key.to_string(), "refused by the test")
}

fn failed_key(error: StoreError) -> String {
    match error {
        StoreError::Corrupt { key, .. } => key,
        other => panic!("not the test's error: {other}"),
    }
}

#[test]
fn every_item_is_written_once_in_order_with_its_own_encoding() {
    // A prime count, so the last chunk is a short one.
    let items: Vec<usize> = (0..10_007).collect();
    let mut written = Vec::new();
    write_encoded_ahead(
        &items,
        64,
        |item| Ok(format!("encoded {item}")),
        |item, encoded| {
            written.push((*item, encoded));
            Ok(())
        },
    )
    .unwrap();
    let expected: Vec<(usize, String)> =
        items.iter().map(|&i| (i, format!("encoded {i}"))).collect();
    assert_eq!(written, expected);
}

#[test]
fn an_encoding_error_is_returned_and_its_chunk_is_not_written() {
    let items: Vec<usize> = (0..5_000).collect();
    let mut written = Vec::new();
    let error = write_encoded_ahead(
        &items,
        64,
        |&item| {
            if item == 500 {
                Err(failure(item))
            } else {
                Ok(item * 2)
            }
        },
        |&item, encoded| {
            assert_eq!(encoded, item * 2);
            written.push(item);
            Ok(())
        },
    )
    .unwrap_err();
    assert_eq!(failed_key(error), "500");
    // Item 500 is in the chunk 448..512: the chunks before it were written,
    // nothing from it or after.
    assert_eq!(written, (0..448).collect::<Vec<_>>());
}

#[test]
fn a_write_error_stops_the_encoding_and_is_returned() {
    // The encoder is chunks ahead when the writer fails: it must be let go
    // (this test would hang otherwise).
    let items: Vec<usize> = (0..100_000).collect();
    let mut written = 0;
    let error = write_encoded_ahead(
        &items,
        10,
        |&item| Ok(item),
        |&item, _| {
            if item == 100 {
                return Err(failure(item));
            }
            written += 1;
            Ok(())
        },
    )
    .unwrap_err();
    assert_eq!(failed_key(error), "100");
    assert_eq!(written, 100);
}

#[test]
fn nothing_to_write_writes_nothing() {
    let items: Vec<usize> = Vec::new();
    write_encoded_ahead(
        &items,
        0,
        |&item| Ok(item),
        |_, _| panic!("nothing to write"),
    )
    .unwrap();
}
