//! Public tracking codes: random, short enough to read over the phone, case-insensitive,
//! no look-alike characters, and a check character that catches every single typo and
//! every swap of two neighbours.
//!
//! The alphabet has 29 symbols (a prime): digits 2-9 and letters without I, L, O, S, Z.
//! The check symbol makes Σ (i+1)·vᵢ ≡ 0 (mod 29). A substitution changes the sum by
//! w·d with 0 < w, d < 29, and a neighbour swap by ±(a−b); neither is 0 modulo a prime.

use rand::Rng;

const ALPHABET: &[u8; 29] = b"23456789ABCDEFGHJKMNPQRTUVWXY";
const MODULUS: u32 = 29;
/// 29⁹ ≈ 1.45·10¹³ ≈ 2^43.7 random codes.
const RANDOM_LEN: usize = 9;
pub const CODE_LEN: usize = RANDOM_LEN + 1;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TrackingCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrackingCodeError {
    #[error("a tracking code has {CODE_LEN} characters; this has {0}")]
    Length(usize),
    #[error(
        "'{0}' cannot appear in a tracking code (it uses 2-9 and letters other than I, L, O, S, Z)"
    )]
    Character(char),
    #[error("this code has a typo: check each character again")]
    Checksum,
}

fn value(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|a| *a == c).map(|p| p as u32)
}

fn weighted_sum(values: impl Iterator<Item = u32>) -> u32 {
    values
        .enumerate()
        .map(|(i, v)| (i as u32 + 1) * v)
        .sum::<u32>()
        % MODULUS
}

/// The symbol value that brings the weighted sum to 0 at position `RANDOM_LEN`.
fn check_value(sum: u32) -> u32 {
    let weight = RANDOM_LEN as u32 + 1;
    // weight·x ≡ −sum (mod 29): try the 29 values (cheap, and clearer than an inverse).
    (0..MODULUS)
        .find(|x| (sum + weight * x).is_multiple_of(MODULUS))
        .unwrap_or(0)
}

impl TrackingCode {
    pub fn generate() -> Self {
        let mut rng = rand::rng();
        let values: Vec<u32> = (0..RANDOM_LEN)
            .map(|_| rng.random_range(0..MODULUS))
            .collect();
        let check = check_value(weighted_sum(values.iter().copied()));
        let code = values
            .iter()
            .chain(std::iter::once(&check))
            .map(|v| char::from(ALPHABET[*v as usize]))
            .collect();
        Self(code)
    }

    /// Reads what a citizen typed: any case, spaces and dashes ignored.
    pub fn parse(raw: &str) -> Result<Self, TrackingCodeError> {
        let cleaned: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.'))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let count = cleaned.chars().count();
        if count != CODE_LEN {
            return Err(TrackingCodeError::Length(count));
        }
        let mut values = Vec::with_capacity(CODE_LEN);
        for c in cleaned.chars() {
            let v = u8::try_from(c)
                .ok()
                .and_then(value)
                .ok_or(TrackingCodeError::Character(c))?;
            values.push(v);
        }
        if weighted_sum(values.into_iter()) != 0 {
            return Err(TrackingCodeError::Checksum);
        }
        Ok(Self(cleaned))
    }

    /// The canonical form stored and compared: `ABCD2345XY`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// For people: `ABCD-2345-XY`.
    pub fn display(&self) -> String {
        format!("{}-{}-{}", &self.0[..4], &self.0[4..8], &self.0[8..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_parse_in_any_case_and_grouping() {
        for _ in 0..200 {
            let code = TrackingCode::generate();
            assert_eq!(TrackingCode::parse(code.as_str()).as_ref(), Ok(&code));
            assert_eq!(
                TrackingCode::parse(&code.display().to_lowercase()).as_ref(),
                Ok(&code)
            );
        }
    }

    #[test]
    fn every_single_substitution_and_neighbour_swap_is_caught() {
        for _ in 0..50 {
            let code = TrackingCode::generate();
            let bytes = code.as_str().as_bytes().to_vec();
            for i in 0..bytes.len() {
                for &other in ALPHABET.iter().filter(|a| **a != bytes[i]) {
                    let mut typo = bytes.clone();
                    typo[i] = other;
                    let typo = String::from_utf8(typo).unwrap();
                    assert_eq!(
                        TrackingCode::parse(&typo),
                        Err(TrackingCodeError::Checksum),
                        "{typo}"
                    );
                }
                if i + 1 < bytes.len() && bytes[i] != bytes[i + 1] {
                    let mut swapped = bytes.clone();
                    swapped.swap(i, i + 1);
                    let swapped = String::from_utf8(swapped).unwrap();
                    assert_eq!(
                        TrackingCode::parse(&swapped),
                        Err(TrackingCodeError::Checksum),
                        "{swapped}"
                    );
                }
            }
        }
    }

    #[test]
    fn look_alikes_and_lengths_are_explained() {
        assert_eq!(
            TrackingCode::parse("ABCD"),
            Err(TrackingCodeError::Length(4))
        );
        assert_eq!(
            TrackingCode::parse("0BCD2345XY"),
            Err(TrackingCodeError::Character('0'))
        );
        assert_eq!(
            TrackingCode::parse("IBCD2345XY"),
            Err(TrackingCodeError::Character('I'))
        );
    }
}
