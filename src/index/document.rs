//! Turns a store record into a tantivy document, field by field as the schema
//! file says (`from` names the record attributes a field copies).
//!
//! It must never decide what is indexed on its own: the schema file does.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use tantivy::TantivyDocument;
use tantivy::schema::Field;

use crate::record::Record;
use crate::schema::{FieldType, SchemaSpec};

enum AttrValue {
    Text(String),
    Number(f64),
    Date(DateTime<Utc>),
    Object(Map<String, Value>),
}

fn attribute_values(record: &Record, attribute: &str) -> Vec<AttrValue> {
    let text = |v: &Option<String>| v.iter().cloned().map(AttrValue::Text).collect();
    let many = |v: &Vec<String>| v.iter().cloned().map(AttrValue::Text).collect();
    match attribute {
        "id" => vec![AttrValue::Text(record.id())],
        "kind" => vec![AttrValue::Text(record.kind.as_str().to_string())],
        "customer_id" => text(&record.customer_id),
        "person_id" => text(&record.person_id),
        "org_id" => text(&record.org_id),
        "customer_name" => text(&record.customer_name),
        "customer_kind" => text(&record.customer_kind),
        "customer_country" => text(&record.customer_country),
        "customer_ref" => text(&record.customer_ref),
        "source" => vec![AttrValue::Text(record.source.clone())],
        "external_id" => vec![AttrValue::Text(record.external_id.clone())],
        "title" => text(&record.title),
        "body" => text(&record.body),
        "names" => many(&record.names),
        "emails" => many(&record.emails),
        "phones" => many(&record.phones),
        "phone_keys" => record
            .phones
            .iter()
            .filter_map(|p| super::keys::phone_significant(p))
            .map(AttrValue::Text)
            .collect(),
        "company" => text(&record.company),
        "customer_keys" => many(&record.search_keys),
        "customer_consent" => many(&record.customer_consent),
        "country" => text(&record.country),
        "stage" => text(&record.stage),
        "owner" => text(&record.owner),
        "tags" => many(&record.tags),
        "amount" => record.amount.into_iter().map(AttrValue::Number).collect(),
        "currency" => text(&record.currency),
        "created" => record.created.into_iter().map(AttrValue::Date).collect(),
        "updated" => record.updated.into_iter().map(AttrValue::Date).collect(),
        "attrs" => {
            let attrs = record.searchable_attrs();
            if attrs.is_empty() {
                Vec::new()
            } else {
                vec![AttrValue::Object(attrs)]
            }
        }
        _ => Vec::new(),
    }
}

pub fn to_document(spec: &SchemaSpec, fields: &[Field], record: &Record) -> TantivyDocument {
    let mut doc = TantivyDocument::new();
    for (field_spec, &field) in spec.fields.iter().zip(fields) {
        for attribute in field_spec.sources() {
            for value in attribute_values(record, attribute) {
                add_value(&mut doc, field_spec.field_type, field, value);
            }
        }
    }
    doc
}

fn add_value(doc: &mut TantivyDocument, field_type: FieldType, field: Field, value: AttrValue) {
    match (field_type, value) {
        (FieldType::Text | FieldType::Keyword, AttrValue::Text(t)) => doc.add_text(field, t),
        (FieldType::Text | FieldType::Keyword, AttrValue::Number(n)) => {
            doc.add_text(field, n.to_string())
        }
        (FieldType::Text | FieldType::Keyword, AttrValue::Date(d)) => {
            doc.add_text(field, d.to_rfc3339())
        }
        (FieldType::Text | FieldType::Keyword, AttrValue::Object(o)) => {
            for v in o.values() {
                if let Some(s) = v.as_str() {
                    doc.add_text(field, s);
                }
            }
        }
        (FieldType::F64, AttrValue::Number(n)) => doc.add_f64(field, n),
        (FieldType::I64, AttrValue::Number(n)) => doc.add_i64(field, n as i64),
        (FieldType::Date, AttrValue::Date(d)) => {
            doc.add_date(field, tantivy::DateTime::from_timestamp_secs(d.timestamp()))
        }
        (FieldType::Json, AttrValue::Object(o)) => {
            doc.add_object(field, o.into_iter().map(|(k, v)| (k, v.into())).collect())
        }
        _ => {}
    }
}
