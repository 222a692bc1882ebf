//! Plain data written twice: as a JavaScript value for a `.js` file and as its exact `as const`
//! type for the `.d.ts` next to it, from one tree, so the two cannot disagree.

use super::string_lit;

/// A constant's value: what JSON can say, with object keys kept in the order they are given.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Lit {
    Str(String),
    Num(String),
    Bool(bool),
    Null,
    List(Vec<Lit>),
    Obj(Vec<(String, Lit)>),
}

/// Which of the two spellings to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Value,
    Type,
}

/// A list or object of scalars stays on one line up to this width.
const INLINE_WIDTH: usize = 100;

impl Lit {
    pub(super) fn str(s: &str) -> Lit {
        Lit::Str(s.to_owned())
    }

    pub(super) fn num(n: impl ToString) -> Lit {
        Lit::Num(n.to_string())
    }

    pub(super) fn opt_str(s: Option<&str>) -> Lit {
        s.map_or(Lit::Null, Lit::str)
    }

    pub(super) fn strs<'a>(items: impl IntoIterator<Item = &'a str>) -> Lit {
        Lit::List(items.into_iter().map(Lit::str).collect())
    }

    pub(super) fn obj<const N: usize>(fields: [(&str, Lit); N]) -> Lit {
        Lit::Obj(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    /// `export const NAME = value;` for the `.js` file.
    pub(super) fn js_const(&self, name: &str) -> String {
        let mut out = format!("export const {name} = ");
        self.render(&mut out, Form::Value, 0);
        out.push_str(";\n");
        out
    }

    /// `export declare const NAME: type;` for the `.d.ts` file: the type `as const` would give.
    pub(super) fn dts_const(&self, name: &str) -> String {
        let mut out = format!("export declare const {name}: ");
        self.render(&mut out, Form::Type, 0);
        out.push_str(";\n");
        out
    }

    fn is_scalar(&self) -> bool {
        !matches!(self, Lit::List(_) | Lit::Obj(_))
    }

    /// Appends the literal to `out`, whose last line is indented by `indent` spaces.
    fn render(&self, out: &mut String, form: Form, indent: usize) {
        let readonly = if form == Form::Type { "readonly " } else { "" };
        match self {
            Lit::Str(s) => out.push_str(&string_lit(s)),
            Lit::Num(n) => out.push_str(n),
            Lit::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Lit::Null => out.push_str("null"),
            Lit::List(items) => {
                // Only scalars may share a line; trying the line for nested values too would
                // render every level twice per level above it. The line is written in place
                // and taken back when it is too long.
                if items.iter().all(Lit::is_scalar) {
                    let start = out.len();
                    out.push_str(readonly);
                    out.push('[');
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        item.render(out, form, indent);
                    }
                    out.push(']');
                    if out.len() - start <= INLINE_WIDTH {
                        return;
                    }
                    out.truncate(start);
                }
                out.push_str(readonly);
                out.push_str("[\n");
                for item in items {
                    pad(out, indent + 2);
                    item.render(out, form, indent + 2);
                    out.push_str(",\n");
                }
                pad(out, indent);
                out.push(']');
            }
            Lit::Obj(fields) if fields.is_empty() => out.push_str("{}"),
            Lit::Obj(fields) => {
                if fields.iter().all(|(_, v)| v.is_scalar()) {
                    let start = out.len();
                    let separator = if form == Form::Type { "; " } else { ", " };
                    out.push_str("{ ");
                    for (i, (k, v)) in fields.iter().enumerate() {
                        if i > 0 {
                            out.push_str(separator);
                        }
                        out.push_str(readonly);
                        out.push_str(k);
                        out.push_str(": ");
                        v.render(out, form, indent);
                    }
                    out.push_str(" }");
                    if out.len() - start <= INLINE_WIDTH {
                        return;
                    }
                    out.truncate(start);
                }
                let end = if form == Form::Type { ";\n" } else { ",\n" };
                out.push_str("{\n");
                for (k, v) in fields {
                    pad(out, indent + 2);
                    out.push_str(readonly);
                    out.push_str(k);
                    out.push_str(": ");
                    v.render(out, form, indent + 2);
                    out.push_str(end);
                }
                pad(out, indent);
                out.push('}');
            }
        }
    }
}

/// `indent` spaces.
fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_and_type_have_the_same_shape() {
        let lit = Lit::obj([
            ("name", Lit::str("tune")),
            ("keys", Lit::strs(["id"])),
            ("via", Lit::obj([("column", Lit::str("a")), ("parent", Lit::str("b"))])),
            ("writable", Lit::Bool(true)),
            ("version", Lit::num(3)),
        ]);
        assert_eq!(
            lit.js_const("x"),
            "export const x = {\n  name: \"tune\",\n  keys: [\"id\"],\n  via: { column: \"a\", parent: \"b\" },\n  writable: true,\n  version: 3,\n};\n"
        );
        assert_eq!(
            lit.dts_const("x"),
            "export declare const x: {\n  readonly name: \"tune\";\n  readonly keys: readonly [\"id\"];\n  readonly via: { readonly column: \"a\"; readonly parent: \"b\" };\n  readonly writable: true;\n  readonly version: 3;\n};\n"
        );
    }
}
