//! Japanese analysis: the IPADIC dictionary built at run time from Debian's
//! mecab-ipadic source, its agreement with MeCab, and the mixed
//! English/Japanese tokenizer (offsets, folding, bigram fallback).

mod dictionary;
mod mecab_agreement;
mod support;
mod tokenizer;
