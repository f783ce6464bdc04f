# Builders for test inputs shaped like the gateway's analyzer output
# (docs/policy-contract.md), and a decide() that evaluates the policy with
# the default masking rules as data.
package warden_test.lib

now_ns := 1795341605000000000

hour_ns := 3600000000000

# The ids and categories of masking-rules/default.yaml.
masking_rules := [
	{"id": "pii.email", "category": "pii", "columns": ["email", "*_email", "email_*"]},
	{"id": "pii.us_ssn", "category": "pii", "columns": ["ssn", "*_ssn", "social_security*"]},
	{"id": "pii.phone", "category": "pii", "columns": ["phone", "*_phone", "phone_*", "mobile"]},
	{"id": "financial.payment_card", "category": "financial", "columns": ["card_number", "*_card_number", "pan", "cc_number"]},
	{"id": "financial.iban", "category": "financial", "columns": ["iban", "*_iban"]},
	{"id": "secret.credentials", "category": "secret", "columns": ["password", "*_password", "api_key", "*_token"]},
]

all_mask_ids := [
	"financial.iban", "financial.payment_card", "pii.email", "pii.phone", "pii.us_ssn",
	"secret.credentials",
]

decide(inp) := d if {
	d := data.warden.decision with input as inp with data.warden.masking.rules as masking_rules
}

codes(d) := {r.code | some r in d.reasons}

# --- identities and targets -------------------------------------------------

agent := {"subject": "svc-reporting", "groups": ["analysts"], "kind": "agent", "issuer": "https://idp.example.com"}

human := {"subject": "alice@example.com", "groups": ["analysts"], "kind": "human", "issuer": "https://idp.example.com"}

pii_reader := {"subject": "bob@example.com", "groups": ["analysts", "pii-readers"], "kind": "human", "issuer": "https://idp.example.com"}

production_db := {"name": "orders-db", "protocol": "postgres", "labels": {"environment": "production", "team": "payments"}}

staging_db := {"name": "orders-staging", "protocol": "postgres", "labels": {"environment": "staging"}}

production_host := {"name": "web-1", "protocol": "ssh", "labels": {"environment": "production"}}

staging_host := {"name": "web-staging-1", "protocol": "ssh", "labels": {"environment": "staging"}}

session := {"id": "01JDXW3G5Q1ZK9B7M2N4P6R8T0", "client_address": "127.0.0.1", "started": "2026-11-22T10:00:00Z"}

now := {"rfc3339": "2026-11-22T10:00:05Z", "ns": now_ns}

# --- SQL --------------------------------------------------------------------

sql_input(identity, target, statements) := {
	"identity": identity,
	"target": target,
	"session": session,
	"command": {
		"raw": concat("; ", [s.text | some s in statements]),
		"fingerprint": "cmd-fp",
		"actions": sort({s.verb | some s in statements}),
		"objects": sort({t.qualified | some s in statements; some t in s.tables}),
		"sql": {"dialect": "postgres", "statements": statements},
	},
	"grants": [],
	"now": now,
}

with_grants(inp, grants) := object.union(inp, {"grants": grants})

grant(id, scope) := {"id": id, "expires_ns": now_ns + hour_ns, "scope": scope}

# A statement: the fields a plain SELECT would have, overridden by fields.
stmt(i, fields) := object.union(
	{
		"index": i,
		"node": "SelectStmt",
		"verb": "select",
		"object_type": null,
		"category": "read",
		"writes": false,
		"dml": [],
		"tables": [],
		"functions": [],
		"settings": [],
		"fingerprint": concat("", ["fp-", format_int(i, 10)]),
		"text": "SELECT 1",
	},
	fields,
)

tbl(schema, name, access) := {"schema": schema, "name": name, "qualified": concat(".", [schema, name]), "access": access}

select_orders(i) := stmt(i, {
	"tables": [tbl("public", "orders", "read")],
	"fingerprint": "fp-select-orders",
	"text": "SELECT id, email FROM public.orders WHERE id = 42",
})

insert_orders(i) := stmt(i, {
	"node": "InsertStmt",
	"verb": "insert",
	"category": "write",
	"writes": true,
	"dml": [{"verb": "insert", "table": "public.orders", "has_where": false}],
	"tables": [tbl("public", "orders", "write")],
	"fingerprint": "fp-insert-orders",
	"text": "INSERT INTO public.orders (id, total) VALUES (43, 10)",
})

update_orders(i, has_where) := stmt(i, {
	"node": "UpdateStmt",
	"verb": "update",
	"category": "write",
	"writes": true,
	"dml": [{"verb": "update", "table": "public.orders", "has_where": has_where}],
	"tables": [tbl("public", "orders", "write")],
	"fingerprint": "fp-update-orders",
	"text": "UPDATE public.orders SET status = 'shipped'",
})

delete_orders(i, has_where) := stmt(i, {
	"node": "DeleteStmt",
	"verb": "delete",
	"category": "write",
	"writes": true,
	"dml": [{"verb": "delete", "table": "public.orders", "has_where": has_where}],
	"tables": [tbl("public", "orders", "write")],
	"fingerprint": "fp-delete-orders",
	"text": "DELETE FROM public.orders",
})

drop_table(i) := stmt(i, {
	"node": "DropStmt",
	"verb": "drop",
	"object_type": "table",
	"category": "ddl",
	"writes": true,
	"tables": [tbl("public", "orders", "write")],
	"fingerprint": "fp-drop-orders",
	"text": "DROP TABLE public.orders",
})

# --- shell ------------------------------------------------------------------

shell_input(identity, target, line, commands) := {
	"identity": identity,
	"target": target,
	"session": session,
	"command": {
		"raw": line,
		"fingerprint": concat("", ["fp:", line]),
		"actions": ["exec"],
		"objects": [],
		"shell": {"interactive": false, "commands": commands},
	},
	"grants": [],
	"now": now,
}

cmd(program, args) := {"program": program, "args": args}

# One simple command, written as a list of words.
line(words) := shell_input(human, staging_host, concat(" ", words), [cmd(words[0], array.slice(words, 1, count(words)))])

interactive_input(identity, target) := {
	"identity": identity,
	"target": target,
	"session": session,
	"command": {
		"raw": "",
		"fingerprint": "fp:interactive",
		"actions": ["shell"],
		"objects": [],
		"shell": {"interactive": true, "commands": []},
	},
	"grants": [],
	"now": now,
}
