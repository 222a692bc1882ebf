//! `renamed_from` on tables and columns: a name of the previous version, so it must be a valid
//! name that this version no longer uses, and claimed by one table (or one column of a table).
//! Whether the previous version had it is not known here: a `renamed_from` that no longer
//! matches is history (see `crate::rename`).

use indexmap::IndexMap;
use toml::Spanned;

use crate::diag::Problem;
use crate::raw;

use super::names::{self, Kind};

/// Every `renamed_from` of the document.
pub(crate) fn check(doc: &raw::Document, problems: &mut Vec<Problem>) {
    let tables = doc.tables.iter().map(|(name, t)| (name, t.get_ref().renamed_from.as_ref()));
    check_names(Kind::Table, "the schema", tables, |old| doc.tables.get_key_value(old), problems);
    for (table, spec) in &doc.tables {
        let columns = &spec.get_ref().columns;
        let place = format!("table `{}`", table.get_ref());
        let renamed = columns.iter().map(|(name, c)| (name, c.renamed_from.as_ref()));
        check_names(Kind::Column, &place, renamed, |old| columns.get_key_value(old), problems);
    }
}

/// The `renamed_from` of the tables (or of one table's columns) `named`, each name with its
/// `renamed_from`; `current` finds a name this version has.
fn check_names<'a, V: 'a>(
    kind: Kind,
    place: &str,
    named: impl Iterator<Item = (&'a Spanned<String>, Option<&'a Spanned<String>>)>,
    current: impl Fn(&str) -> Option<(&'a Spanned<String>, V)>,
    problems: &mut Vec<Problem>,
) {
    let noun = kind.noun();
    // Each old name, with the name renamed from it first and where that says so.
    let mut claimed: IndexMap<&str, (&Spanned<String>, &Spanned<String>)> = IndexMap::new();
    for (name, old) in named {
        let Some(old) = old else { continue };
        let (old_name, span) = (old.get_ref().as_str(), old.span());
        names::check_ident(kind, old_name, span.clone(), problems);
        if let Some((existing, _)) = current(old_name) {
            problems.push(
                Problem::new(
                    "schema::renamed_from_exists",
                    span.clone(),
                    format!(
                        "{noun} `{}` is renamed from `{old_name}`, but {place} still has a {noun} \
                         `{old_name}`",
                        name.get_ref()
                    ),
                )
                .label("a name this version still uses")
                .also(existing.span(), format!("`{old_name}` is defined here"))
                .help(format!(
                    "`renamed_from` names the {noun}'s name in the previous version, which a rename \
                     leaves free; remove it, or rename the other {noun} as well"
                )),
            );
        }
        match claimed.get(old_name) {
            Some((first, first_old)) => problems.push(
                Problem::new(
                    "schema::duplicate_name",
                    span,
                    format!(
                        "{noun}s `{}` and `{}` of {place} are both renamed from `{old_name}`",
                        first.get_ref(),
                        name.get_ref()
                    ),
                )
                .label("renamed from the same name again")
                .also(first_old.span(), format!("`{}` is renamed from it here", first.get_ref()))
                .help(format!("one {noun} of the previous version becomes one {noun} of this one")),
            ),
            None => {
                claimed.insert(old_name, (name, old));
            }
        }
    }
}
