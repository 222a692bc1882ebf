import Database from "better-sqlite3";
import { eq, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { type TuneStored, tuneFromStored } from "@tunes/schema/rows";
import { tune } from "@tunes/schema/drizzle/sqlite";
import { sqliteSchemaSql } from "@tunes/schema/sync-meta";

// A new device database: the generated DDL makes the tables and the sync machinery.
const sqlite = new Database(":memory:");
sqlite.exec(sqliteSchemaSql);
const db = drizzle(sqlite);

// Drizzle is the app's query layer; the outbox triggers record each write for the next sync.
const [added] = db.insert(tune).values({ title: "The Silver Spear" }).returning().all();
if (!added) throw new Error("the insert returned no row");
const [read] = db.select().from(tune).where(eq(tune.id, added.id)).all();
console.log(read?.title, read?.type, read?.deleted); // The Silver Spear reel false
const [outbox] = db.all<{ n: number }>(sql`SELECT count(*) AS n FROM _sync_outbox`);
console.log("pending changes:", outbox?.n); // pending changes: 1

// A raw query returns the stored row (deleted is 0); the converter gives the wire row.
const stored = sqlite.prepare("SELECT * FROM tune WHERE id = ?").get(added.id) as TuneStored;
const wire = tuneFromStored(stored);
console.log(stored.deleted, wire.deleted); // 0 false
