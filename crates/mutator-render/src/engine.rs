//! The Tera instance every template runs in. Escaping is on for all templates and writes YAML
//! scalars, so a template author cannot forget it: `{{ value }}` is always one safe scalar.

use tera::{Error, Kwargs, State, Tera, TeraResult, Value};

use crate::skeleton::TEMPLATE_SUFFIX;
use crate::yaml_scalar;

/// A Tera with YAML escaping and our filters, holding no templates yet.
pub fn new() -> Tera {
    let mut tera = Tera::new();
    tera.autoescape_on([TEMPLATE_SUFFIX]);
    tera.set_escape_fn(yaml_scalar::write_scalar);
    tera.register_filter("quoted", quoted);
    // The skeleton loader already refuses `safe`; this covers any way around that check.
    tera.register_filter("safe", refuse_safe);
    tera
}

/// `{{ tag | quoted }}`: always a double-quoted scalar, for values a reader (or a tool that
/// rewrites the file later) must see as strings even when they look like numbers.
fn quoted(value: &str, _: Kwargs, _: &State) -> Value {
    Value::safe_string(&yaml_scalar::double_quoted(value))
}

fn refuse_safe(_: &Value, _: Kwargs, _: &State) -> TeraResult<Value> {
    Err(Error::message(
        "the safe filter is disabled: values are data and are always escaped",
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use tera::Context;

    use super::*;

    fn render(template: &str, value: &str) -> TeraResult<String> {
        let mut tera = new();
        tera.add_raw_template("t.yaml.tera", template)?;
        let mut context = Context::new();
        context.insert("v", value);
        tera.render("t.yaml.tera", &context)
    }

    #[test]
    fn values_are_escaped_and_never_evaluated() {
        assert_eq!(render("a: {{ v }}", "x").unwrap(), "a: x");
        assert_eq!(
            render("a: {{ v }}", "{{ 1 + 1 }}").unwrap(),
            "a: \"{{ 1 + 1 }}\""
        );
        assert_eq!(render("a: {{ v | quoted }}", "x").unwrap(), "a: \"x\"");
        assert_eq!(
            render("a: {{ \"p/\" ~ v }}", "1: 2").unwrap(),
            "a: \"p/1: 2\""
        );
        assert!(render("a: {{ v | safe }}", "x").is_err());
    }
}
