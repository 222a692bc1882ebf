// drizzle-kit as an oracle for the generated Drizzle schemas (run by tests/tests/drizzle_kit.rs):
// prints, as a JSON array, the statements drizzle-kit makes of a schema module.
//
//   node drizzle-kit-oracle.mjs push <pg.js> <postgres url>
//     What `drizzle-kit push --strict --verbose` plans against the database. The CLI, not the
//     programmatic `pushSchema`: that one drops the parameters of its queries and fails on a
//     composite primary key. Without a terminal, the CLI applies nothing: it stops at its prompt.
//   node drizzle-kit-oracle.mjs sqlite <sqlite.js>
//     The SQLite DDL drizzle-kit generates for the schema from an empty one.
import { spawnSync } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { generateSQLiteDrizzleJson, generateSQLiteMigration } from "drizzle-kit/api";

const [mode, schema, url] = process.argv.slice(2);

if (mode === "push") {
  const bin = fileURLToPath(new URL("node_modules/drizzle-kit/bin.cjs", import.meta.url));
  const args = ["push", "--dialect", "postgresql", "--schema", schema, "--url", url];
  const run = spawnSync(process.execPath, [bin, ...args, "--strict", "--verbose"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  // The spinner's escape sequences aside.
  const output = (run.stdout + run.stderr).replace(/\x1b\[[0-9;]*[A-Za-z]/g, "");
  const planned = output.match(/You are about to execute current statements:\n\n([\s\S]*?)\n\n/);
  if (output.includes("No changes detected")) {
    console.log("[]");
  } else if (planned) {
    console.log(JSON.stringify(planned[1].split("\n")));
  } else {
    console.error(`drizzle-kit push said neither "No changes detected" nor what it plans:\n${output}`);
    process.exit(2);
  }
} else if (mode === "sqlite") {
  const empty = await generateSQLiteDrizzleJson({});
  const current = await generateSQLiteDrizzleJson(await import(pathToFileURL(schema).href));
  console.log(JSON.stringify(await generateSQLiteMigration(empty, current)));
} else {
  console.error("usage: drizzle-kit-oracle.mjs push <pg.js> <url> | sqlite <sqlite.js>");
  process.exit(2);
}
