//! Text that leaves the process (stored errors, logs) with personal data blanked: a safety
//! net behind code that must not put phone numbers or emails in errors anyway.

/// Longest error text stored; handler errors can quote whole response bodies.
const MAX_ERROR_CHARS: usize = 500;

/// Error text as stored: long digit runs (phone or identity numbers) and anything that looks
/// like an email address are blanked, as a safety net behind handlers that must not put
/// personal data in errors anyway; then truncated.
pub fn clean_error(error: &str) -> String {
    let mut words = String::with_capacity(error.len());
    for word in error.split_inclusive(char::is_whitespace) {
        let bare = word.trim_end();
        if bare.contains('@') && bare.contains('.') {
            words.push_str("[email]");
            words.push_str(&word[bare.len()..]);
        } else {
            words.push_str(word);
        }
    }
    // Over the whole text: a phone number is often written in groups ("0912 345 678").
    let mut out = mask_digit_runs(&words);
    if out.chars().count() > MAX_ERROR_CHARS {
        out = out.chars().take(MAX_ERROR_CHARS).collect();
        out.push('…');
    }
    out
}

/// Replaces runs of 8 or more digits (spaces and dots inside a number count as part of it).
fn mask_digit_runs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let mut digits = 0;
    let flush = |out: &mut String, run: &mut String, digits: &mut usize| {
        if *digits >= 8 {
            // Separators after the last digit belong to the text, not the number.
            let tail = run.trim_end_matches(|c: char| !c.is_ascii_digit());
            out.push_str("[number]");
            out.push_str(&run[tail.len()..]);
        } else {
            out.push_str(run);
        }
        run.clear();
        *digits = 0;
    };
    for ch in text.chars() {
        if ch.is_ascii_digit() || (ch == '+' && run.is_empty()) {
            digits += usize::from(ch.is_ascii_digit());
            run.push(ch);
        } else if (ch == '.' || ch == ' ') && digits > 0 {
            run.push(ch);
        } else {
            flush(&mut out, &mut run, &mut digits);
            out.push(ch);
        }
    }
    flush(&mut out, &mut run, &mut digits);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_lose_numbers_and_emails_and_length() {
        assert_eq!(
            clean_error("SMS to 0912 345 678 failed: 503"),
            "SMS to [number] failed: 503"
        );
        assert_eq!(
            clean_error("mail a.b@example.vn refused"),
            "mail [email] refused"
        );
        assert_eq!(
            clean_error("order 2026-11-22 code 1234567"),
            "order 2026-11-22 code 1234567"
        );
        let long = "x".repeat(2000);
        assert_eq!(clean_error(&long).chars().count(), MAX_ERROR_CHARS + 1);
    }
}
