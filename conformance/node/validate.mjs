// Validates custom resources whose CRDs ../../shared/schemas does not hold (Argo Rollouts,
// cert-manager) with the models of the npm packages @kubernetes-models/argo-rollouts and
// @kubernetes-models/cert-manager (pinned in package.json and package-lock.json), as
// `kubectl --validate=strict` would: the package's own validator (types, required fields, enums;
// ajv compiled from the upstream OpenAPI), plus a walk that rejects every field the package's
// type declarations do not name (unknown fields), since the compiled validators let them through.
//
// stdin: a JSON array of {"where": "...", "doc": {...}}. stdout: one JSON line per document,
// {"where", "kind", "errors": [...], "strictFields": N} where strictFields counts the fields
// checked against a declared type. Exit 0 unless the input cannot be read.

import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const PACKAGES = ["@kubernetes-models/argo-rollouts", "@kubernetes-models/cert-manager"];
// The declarations the strict walk reads: the two packages and the Kubernetes types they use.
const DECLARATIONS = [...PACKAGES, "@kubernetes-models/apimachinery", "kubernetes-models"];

function packageDir(name) {
  return path.dirname(require.resolve(`${name}/package.json`));
}

/** Every `export interface` of every .d.ts under a directory: name -> {props, extends}. */
function indexDeclarations() {
  const interfaces = new Map();
  const aliases = new Map();
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== "node_modules") walk(full);
      } else if (entry.name.endsWith(".d.ts")) {
        parse(fs.readFileSync(full, "utf8"));
      }
    }
  };
  const parse = (text) => {
    const lines = text.split("\n");
    for (let i = 0; i < lines.length; i++) {
      const head = /^export interface (\w+)(?: extends ([\w, ]+))? \{$/.exec(lines[i]);
      if (head) {
        const props = new Map();
        for (i++; i < lines.length && lines[i] !== "}"; i++) {
          const prop = /^ {4}"([^"]+)"\??: (.*)$/.exec(lines[i]);
          if (!prop) continue;
          let type = prop[2];
          // a multi-line map type: `{` … `};`
          while (!type.endsWith(";") && i + 1 < lines.length) type += " " + lines[++i].trim();
          props.set(prop[1], type.replace(/;$/, "").replace(/\s+/g, " ").trim());
        }
        const ext = head[2] ? head[2].split(",").map((s) => s.trim()) : [];
        interfaces.set(head[1], { props, ext });
      }
      const alias = /^export type \{ (\w+) as (\w+), /.exec(lines[i]);
      if (alias) aliases.set(alias[2], alias[1]);
    }
  };
  for (const name of DECLARATIONS) walk(packageDir(name));
  return { interfaces, aliases };
}

const { interfaces, aliases } = indexDeclarations();

function lookup(name) {
  return interfaces.get(name) ?? interfaces.get(aliases.get(name));
}

function allProps(decl) {
  const props = new Map(decl.props);
  for (const parent of decl.ext) {
    const p = lookup(parent);
    if (p) for (const [k, v] of allProps(p)) if (!props.has(k)) props.set(k, v);
  }
  return props;
}

/** Reports every field of `value` that the declared `type` does not name. */
function strict(value, type, where, errors, counter) {
  if (value === null || value === undefined) return;
  let m = /^Array<(.*)>$/.exec(type);
  if (m) {
    if (Array.isArray(value)) value.forEach((v, i) => strict(v, m[1], `${where}[${i}]`, errors, counter));
    return;
  }
  m = /^\{ \[key: string\]: (.*?);? \}$/.exec(type);
  if (m) {
    if (typeof value === "object") for (const [k, v] of Object.entries(value)) strict(v, m[1], `${where}.${k}`, errors, counter);
    return;
  }
  const decl = lookup(type);
  if (!decl || typeof value !== "object" || Array.isArray(value)) return;
  const props = allProps(decl);
  for (const [k, v] of Object.entries(value)) {
    counter.n++;
    if (!props.has(k)) errors.push(`${where}.${k}: unknown field "${k}"`);
    else strict(v, props.get(k), `${where}.${k}`, errors, counter);
  }
}

async function model(doc) {
  const [group, version] = String(doc.apiVersion).split("/");
  for (const pkg of PACKAGES) {
    const file = path.join(packageDir(pkg), group, version ?? "", `${doc.kind}.js`);
    if (fs.existsSync(file)) return { module: await import(file), pkg };
  }
  return null;
}

const input = JSON.parse(fs.readFileSync(0, "utf8"));
for (const { where, doc } of input) {
  const errors = [];
  const counter = { n: 0 };
  const found = await model(doc);
  if (!found) {
    errors.push(`no model for ${doc.apiVersion} ${doc.kind} in ${PACKAGES.join(", ")}`);
  } else {
    const Model = found.module[doc.kind];
    try {
      new Model(doc).validate();
    } catch (e) {
      errors.push(...String(e.message).split(", ").map((s) => s.replace(/^data/, "")));
    }
    strict(doc, `I${doc.kind}`, "", errors, counter);
    if (!lookup(`I${doc.kind}`)) errors.push(`no type declaration I${doc.kind} in ${found.pkg}`);
  }
  process.stdout.write(JSON.stringify({ where, kind: `${doc.apiVersion} ${doc.kind}`, errors, strictFields: counter.n, pkg: found?.pkg }) + "\n");
}
