//! Word frequency with iterators and lifetimes.
use std::collections::HashMap;
use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Token<'a> {
    Word(&'a str),
    Number(i64),
    Punct(char),
}

impl<'a> fmt::Display for Token<'a> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Word(w) => write!(f, "{w}"),
            Token::Number(n) => write!(f, "{n:>5}"),
            Token::Punct(c) => write!(f, "'{c}'"),
        }
    }
}

pub fn lex(s: &str) -> Vec<Token<'_>> {
    s.split_whitespace()
        .map(|w| match w.parse::<i64>() {
            Ok(n) => Token::Number(n),
            Err(_) if w.len() == 1 && !w.chars().all(char::is_alphanumeric) => {
                Token::Punct(w.chars().next().unwrap())
            }
            Err(_) => Token::Word(w),
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut freq: HashMap<String, usize> = HashMap::new();
    for t in lex("the 3 little pigs ; the 1 wolf") {
        *freq.entry(t.to_string()).or_default() += 1;
    }
    let mut v: Vec<_> = freq.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    println!("{:?}", &v[..v.len().min(3)]);
    Ok(())
}
