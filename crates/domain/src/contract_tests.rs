//! The patterns the API document states (`crate::schema`) accept exactly what the parsers
//! accept: a value the document allows is never refused, and one it forbids is never taken.

use super::*;
use crate::model::{duration_core, parse_duration_secs, Overlap, KEY_LIFETIME_MAX_SECS};
use proptest::prelude::*;
use regex::Regex;

fn anchored(pattern: &str) -> Regex {
    Regex::new(pattern).expect("the pattern compiles")
}

/// Strings from `core` with the white space the parsers trim around them.
fn generated(core: &str) -> proptest::string::RegexGeneratorStrategy<String> {
    proptest::string::string_regex(&format!(
        "[{WHITESPACE}]{{0,2}}(?:{core})[{WHITESPACE}]{{0,2}}"
    ))
    .expect("the pattern generates")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn the_name_pattern_is_the_name_rule(s in "[ \\t\\n\\x00\\x1f\\x7f\\u{85}\\u{a0}\\u{3000}\\u{feff}aZé€-]{0,104}") {
        let re = anchored(NAME_PATTERN);
        let documented = re.is_match(&s) && s.chars().count() <= NAME_MAX;
        prop_assert_eq!(Name::parse(&s).is_ok(), documented, "{:?}", s);
    }

    #[test]
    fn the_client_id_pattern_is_the_client_id_rule(s in "[ \\t\\u{3000}\\x00\\x7fé!~aZ0]{0,258}") {
        let re = anchored(&trimmed_pattern(CLIENT_ID_CORE));
        let documented = re.is_match(&s) && s.chars().count() <= CLIENT_ID_MAX;
        prop_assert_eq!(ClientId::parse(&s).is_ok(), documented, "{:?}", s);
    }

    #[test]
    fn every_documented_issuer_is_accepted(s in generated(&issuer_core())) {
        prop_assume!(s.chars().count() <= URL_MAX);
        prop_assert!(IssuerUrl::parse(&s).is_ok(), "{:?}: {:?}", s, IssuerUrl::parse(&s));
    }

    #[test]
    fn every_documented_redirect_uri_is_accepted(s in generated(&redirect_uri_core())) {
        prop_assume!(s.chars().count() <= URL_MAX);
        prop_assert!(RedirectUri::parse(&s).is_ok(), "{:?}: {:?}", s, RedirectUri::parse(&s));
    }

    #[test]
    fn the_title_and_actor_id_patterns_are_their_rules(s in "[ \\t\\n\\x00\\x1f\\x7f\\u{85}\\u{a0}\\u{3000}aZé€:#-]{0,258}") {
        use crate::incident::{check_actor_id, check_title};
        use crate::model::{ACTOR_ID_MAX, TITLE_MAX};
        let re = anchored(NAME_PATTERN);
        let title = re.is_match(&s) && s.chars().count() <= TITLE_MAX;
        prop_assert_eq!(check_title(&s).is_ok(), title, "title {:?}", s);
        let actor = re.is_match(&s) && s.chars().count() <= ACTOR_ID_MAX;
        prop_assert_eq!(check_actor_id(&s).is_ok(), actor, "actor id {:?}", s);
    }

    #[test]
    fn the_comment_pattern_is_the_comment_rule(s in "[ \\t\\n\\x00\\x1f\\u{85}\\u{a0}\\u{3000}aé]{0,12}") {
        let re = anchored(&said_text_pattern());
        prop_assert_eq!(crate::incident::check_comment(&s).is_ok(), re.is_match(&s), "{:?}", s);
    }

    #[test]
    fn every_documented_webhook_url_is_accepted(s in generated(&webhook_url_core())) {
        prop_assume!(s.chars().count() <= URL_MAX);
        let checked = crate::incident::check_webhook_url(&s);
        prop_assert!(checked.is_ok(), "{:?}: {:?}", s, checked);
    }

    #[test]
    fn the_duration_patterns_are_the_duration_rules(s in "[ ]?0{0,2}[0-9]{0,10}(s|m|min|h|d|x|)[ ]?") {
        let lifetime = anchored(&trimmed_pattern(&format!("{}?", duration_core(KEY_LIFETIME_MAX_SECS))));
        let t = s.trim();
        let accepted = t.is_empty() || parse_duration_secs(t).is_some_and(|v| v <= KEY_LIFETIME_MAX_SECS);
        prop_assert_eq!(lifetime.is_match(&s), accepted, "expires_in {:?}", s);
        let overlap = anchored(&trimmed_pattern(&Overlap::core()));
        prop_assert_eq!(overlap.is_match(&s), Overlap::parse(&s).is_ok(), "overlap {:?}", s);
    }
}

#[test]
fn the_name_pattern_spells_out_the_white_space_class() {
    let ws = format!("[{WHITESPACE}]*");
    assert!(
        NAME_PATTERN.starts_with(&format!("^{ws}")) && NAME_PATTERN.ends_with(&format!("{ws}$"))
    );
}

#[test]
fn the_url_forms_keep_the_urls_people_use() {
    for ok in [
        "https://login.example.com",
        "https://x.auth0.com/",
        "https://keycloak.example.com:8443/realms/acme",
        "http://127.0.0.1:8080/realms/x",
        "http://localhost:4000",
        "https://10.0.0.5/oidc",
    ] {
        assert!(IssuerUrl::parse(ok).is_ok(), "{ok}");
    }
    for ok in [
        "https://app.example.com/cb?tenant=a",
        "http://localhost:4321/cb",
        "http://[::1]:4321/cb",
        "com.example.app:/cb",
    ] {
        assert!(RedirectUri::parse(ok).is_ok(), "{ok}");
    }
    for bad in [
        "https://1.2.3.999/",
        "https://host:99999/",
        "https://xn--a/",
        "https://ex ample.com",
    ] {
        assert!(IssuerUrl::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn number_ranges_match_exactly_their_numbers() {
    for max in (1..=320).chain([999, 1000, 1825, 3650]) {
        let re = anchored(&format!("^{}$", crate::model::decimal_range(max)));
        for n in 0..=4000 {
            assert_eq!(
                re.is_match(&n.to_string()),
                (1..=max).contains(&n),
                "{n} in 1..={max}"
            );
        }
    }
}
