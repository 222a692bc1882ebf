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
        format!("export const {name} = {};\n", self.render(Form::Value, 0))
    }

    /// `export declare const NAME: type;` for the `.d.ts` file: the type `as const` would give.
    pub(super) fn dts_const(&self, name: &str) -> String {
        format!("export declare const {name}: {};\n", self.render(Form::Type, 0))
    }

    fn is_scalar(&self) -> bool {
        !matches!(self, Lit::List(_) | Lit::Obj(_))
    }

    fn render(&self, form: Form, indent: usize) -> String {
        let readonly = if form == Form::Type { "readonly " } else { "" };
        let pad = " ".repeat(indent + 2);
        match self {
            Lit::Str(s) => string_lit(s),
            Lit::Num(n) => n.clone(),
            Lit::Bool(b) => b.to_string(),
            Lit::Null => "null".into(),
            Lit::List(items) => {
                // Only scalars may share a line; trying the line for nested values too would
                // render every level twice per level above it.
                if items.iter().all(Lit::is_scalar) {
                    let inline: Vec<String> =
                        items.iter().map(|i| i.render(form, indent)).collect();
                    let one_line = format!("{readonly}[{}]", inline.join(", "));
                    if one_line.len() <= INLINE_WIDTH {
                        return one_line;
                    }
                }
                let lines: String = items
                    .iter()
                    .map(|i| format!("{pad}{},\n", i.render(form, indent + 2)))
                    .collect();
                format!("{readonly}[\n{lines}{}]", " ".repeat(indent))
            }
            Lit::Obj(fields) if fields.is_empty() => "{}".into(),
            Lit::Obj(fields) => {
                let end = if form == Form::Type { ";" } else { "," };
                if fields.iter().all(|(_, v)| v.is_scalar()) {
                    let inline: Vec<String> = fields
                        .iter()
                        .map(|(k, v)| format!("{readonly}{k}: {}", v.render(form, indent)))
                        .collect();
                    let separator = if form == Form::Type { "; " } else { ", " };
                    let one_line = format!("{{ {} }}", inline.join(separator));
                    if one_line.len() <= INLINE_WIDTH {
                        return one_line;
                    }
                }
                let lines: String = fields
                    .iter()
                    .map(|(k, v)| {
                        format!("{pad}{readonly}{k}: {}{end}\n", v.render(form, indent + 2))
                    })
                    .collect();
                format!("{{\n{lines}{}}}", " ".repeat(indent))
            }
        }
    }
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
