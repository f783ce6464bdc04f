# SQL rules: what each statement of command.sql.statements is denied for,
# or needs review for. Findings are {"key": position, "code", "message"};
# a parse error of the whole text has key "command".
package warden.sql

import data.warden.request
import data.warden.settings

# ---------------------------------------------------------------------------
# which statements need the deny rules
#
# These rules run for every SQL command (compiled to WebAssembly), so the
# common case is kept cheap: plain statements are screened out once, and the
# fields of the others are read and lower-cased once, in `info`, rather than
# by a function per rule (functions are re-evaluated on every call, rules
# without arguments once per evaluation).

# The positions of the statements that are not plain: a SELECT, INSERT,
# UPDATE or DELETE (node and verb agreeing) without an object type,
# functions, settings or prepared_unknown, and not of category dcl. Every
# deny rule but the parse error needs one of these, so for the common
# statements the deny rules end here. plain() reads the raw fields, so a
# statement reported in any other way (upper-case verb, missing fields) is
# special and gets all the rules.
special contains i if {
	some i, s in request.statements
	not plain(s)
}

plain(s) if {
	plain_nodes[s.node] == s.verb
	s.object_type == null
	s.category != "dcl"
	s.functions == []
	s.settings == []
	not s.prepared_unknown == true
}

plain_nodes := {"SelectStmt": "select", "InsertStmt": "insert", "UpdateStmt": "update", "DeleteStmt": "delete"}

# The fields of a special statement the rules look at, normalised once.
info[i] := {
	"verb": verb(s),
	"node": node(s),
	"object_type": object_type(s),
	"category": category(s),
} if {
	some i in special
	s := request.statements[i]
}

# ---------------------------------------------------------------------------
# deny

deny contains finding("command", "sql.parse_error", "the query could not be parsed, so it cannot be checked") if {
	request.sql_parse_error
}

# Everything else is about special statements (see `special` above).
deny contains f if {
	count(special) > 0
	some f in special_deny
}

deny contains f if {
	count(special) > 0
	some f in dcl_deny
}

# Fail closed on privileges: a statement of category dcl (GRANT, REVOKE,
# roles, ALTER ... OWNER TO, ALTER TABLE ... ROW LEVEL SECURITY, CREATE/ALTER
# POLICY, SECURITY LABEL, ...) that no rule of special_deny denies is denied
# as sql.privileges. (A separate set: it looks at special_deny.)
dcl_deny contains finding(i, "sql.privileges", messages["sql.privileges"]) if {
	some i, x in info
	x.category == "dcl"
	not i in denied_statements
}

denied_statements contains f.key if some f in special_deny

# Statements recognised by their verb, node type or object type alone.
special_deny contains finding(i, code, messages[code]) if {
	some i, x in info
	some code in deny_by_verb[x.verb]
}

special_deny contains finding(i, code, messages[code]) if {
	some i, x in info
	some code in deny_by_node[x.node]
}

special_deny contains finding(i, code, messages[code]) if {
	some i, x in info
	some code in deny_by_object_type[x.object_type]
}

special_deny contains finding(i, "sql.drop", messages["sql.drop"]) if {
	some i, x in info
	startswith(x.node, "Drop")
}

special_deny contains finding(i, "sql.create_extension", messages["sql.create_extension"]) if {
	some i, x in info
	x.verb == "create"
	x.object_type == "extension"
}

special_deny contains finding(i, "sql.role_change", messages["sql.role_change"]) if {
	some i in special
	s := request.statements[i]
	some x in s.settings
	is_string(x)
	lower(x) in settings.role_settings
}

# DISCARD ALL runs SET SESSION AUTHORIZATION DEFAULT. Without the statement
# text the DISCARD is assumed to be DISCARD ALL.
special_deny contains finding(i, "sql.role_change", messages["sql.role_change"]) if {
	some i, x in info
	is_discard(x)
	not discard_other(request.statements[i])
}

special_deny contains finding(i, code, messages[code]) if {
	some i, x in info
	is_copy(x)
	some flag, code in {"program": "sql.copy_program", "file": "sql.copy_file"}
	not request.statements[i].copy[flag] == false
}

special_deny contains finding(i, "sql.server_file_function", msg) if {
	some i in special
	s := request.statements[i]
	some f in lower_strings(s.functions)
	unqualified(f) in settings.server_file_functions
	msg := concat("", ["the function ", f, " is not allowed: it reads or writes files on the database server"])
}

special_deny contains finding(i, "sql.dblink", msg) if {
	some i in special
	s := request.statements[i]
	some f in lower_strings(s.functions)
	startswith(unqualified(f), settings.dblink_function_prefix)
	msg := concat("", ["the function ", f, " is not allowed: dblink connects to other databases"])
}

special_deny contains finding(i, "sql.untrusted_language", msg) if {
	some i, x in info
	carries_code(x)
	lang := code_language(x, request.statements[i])
	not lang in settings.trusted_languages
	msg := concat("", ["code in the untrusted language \"", lang, "\" is not allowed"])
}

special_deny contains finding(i, "sql.anonymous_block", messages["sql.anonymous_block"]) if {
	request.is_agent
	some i, x in info
	is_do(x)
}

special_deny contains finding(i, "sql.unknown_prepared", messages["sql.unknown_prepared"]) if {
	some i in special
	s := request.statements[i]
	s.prepared_unknown == true
}

# The message of each code found by the rules above. (sql.untrusted_language
# also has a message per language; this one is for LOAD.)
messages := {
	"sql.drop": "DROP statements are not allowed",
	"sql.truncate": "TRUNCATE is not allowed",
	"sql.alter_system": "ALTER SYSTEM is not allowed",
	"sql.role_management": "creating, altering or dropping roles is not allowed",
	"sql.privileges": "GRANT, REVOKE and changes of privileges or ownership are not allowed",
	"sql.role_change": "changing the session's role or authorization is not allowed",
	"sql.copy_program": "COPY to or from a program is not allowed",
	"sql.copy_file": "COPY to or from a file on the database server is not allowed",
	"sql.create_extension": "CREATE EXTENSION is not allowed",
	"sql.untrusted_language": "LOAD of a server library is not allowed",
	"sql.anonymous_block": "agents may not run anonymous code blocks (DO)",
	"sql.foreign_server": "creating or changing foreign servers, user mappings or subscriptions is not allowed",
	"sql.unknown_prepared": "EXECUTE of a statement not prepared through the gateway is not allowed",
}

# verb (lower case) -> codes
deny_by_verb := {
	"drop": {"sql.drop"},
	"truncate": {"sql.truncate"},
	"grant": {"sql.privileges"},
	"revoke": {"sql.privileges"},
	"reassign": {"sql.privileges"},
	"security_label": {"sql.privileges"},
}

# node -> codes; every node starting with "Drop" is also sql.drop (above).
deny_by_node := {
	"TruncateStmt": {"sql.truncate"},
	"AlterSystemStmt": {"sql.alter_system"},
	"CreateRoleStmt": {"sql.role_management"},
	"AlterRoleStmt": {"sql.role_management"},
	"AlterRoleSetStmt": {"sql.role_management"},
	"DropRoleStmt": {"sql.role_management"},
	"GrantStmt": {"sql.privileges"},
	"GrantRoleStmt": {"sql.privileges"},
	"AlterDefaultPrivilegesStmt": {"sql.privileges"},
	"ReassignOwnedStmt": {"sql.privileges"},
	"AlterOwnerStmt": {"sql.privileges"},
	"CreatePolicyStmt": {"sql.privileges"},
	"AlterPolicyStmt": {"sql.privileges"},
	"SecLabelStmt": {"sql.privileges"},
	"CreateExtensionStmt": {"sql.create_extension"},
	"LoadStmt": {"sql.untrusted_language"},
	"CreateForeignServerStmt": {"sql.foreign_server"},
	"AlterForeignServerStmt": {"sql.foreign_server"},
	"CreateUserMappingStmt": {"sql.foreign_server"},
	"AlterUserMappingStmt": {"sql.foreign_server"},
	"CreateFdwStmt": {"sql.foreign_server"},
	"AlterFdwStmt": {"sql.foreign_server"},
	"CreateSubscriptionStmt": {"sql.foreign_server"},
	"AlterSubscriptionStmt": {"sql.foreign_server"},
}

# object_type (lower case) -> codes
deny_by_object_type := {
	"system": {"sql.alter_system"},
	"role": {"sql.role_management"},
	"user": {"sql.role_management"},
	"group": {"sql.role_management"},
	"default_privileges": {"sql.privileges"},
	"server": {"sql.foreign_server"},
	"user_mapping": {"sql.foreign_server"},
	"foreign_data_wrapper": {"sql.foreign_server"},
	"subscription": {"sql.foreign_server"},
}

# ---------------------------------------------------------------------------
# review

# An UPDATE, DELETE or MERGE (for MERGE, has_where means a join condition
# other than the constant true) that may change every row. INSERT has none.
review contains finding(i, "sql.unbounded_write", msg) if {
	some i, s in request.statements
	some d in s.dml
	not d.has_where == true
	v := lower(d.verb)
	v in unbounded_verbs
	msg := unbounded_message(v, table_of(d))
}

# Fail closed: an UPDATE, DELETE or MERGE statement for which the gateway
# reported no data change is treated as unbounded.
review contains finding(i, "sql.unbounded_write", msg) if {
	some i, s in request.statements
	v := verb(s)
	v in unbounded_verbs
	not has_dml(s)
	msg := unbounded_message(v, "?")
}

unbounded_verbs := {"update", "delete", "merge"}

review contains finding(i, "sql.write_in_production", "agents need an approved grant to write to production targets") if {
	request.is_agent
	request.production
	some i, s in request.statements
	writes(s)
}

unbounded_message(verb, table) := concat("", [upper(verb), " without ", bound_name(verb), " needs approval"]) if {
	table == "?"
} else := concat("", [upper(verb), " without ", bound_name(verb), " on ", table, " needs approval"])

bound_name("merge") := "a join condition"

bound_name(v) := "a WHERE clause" if v != "merge"

# ---------------------------------------------------------------------------
# statement predicates

finding(key, code, message) := {"key": key, "code": code, "message": message}

node(s) := s.node if {
	is_string(s.node)
} else := ""

verb(s) := lower(s.verb) if {
	is_string(s.verb)
} else := ""

object_type(s) := lower(s.object_type) if {
	is_string(s.object_type)
} else := ""

category(s) := lower(s.category) if {
	is_string(s.category)
} else := ""

lower_strings(xs) := [lower(x) | some x in xs; is_string(x)]

# The name after the last dot, without quotes: pg_catalog.lo_import -> lo_import.
unqualified(f) := trim(parts[count(parts) - 1], "\"") if parts := split(f, ".")

# Every data change of the statement, nested ones included, as
# {"verb", "table", "has_where"} with verb lower case.
dml(s) := [entry |
	some d in objects_of(s.dml)
	entry := {
		"verb": lower(d.verb),
		"table": table_of(d),
		"has_where": object.get(d, "has_where", false),
	}
]

table_of(d) := d.table if {
	is_string(d.table)
} else := "?"

# Verbs of the statement: its own and those of every data change inside it.
verbs(s) := {verb(s)} | {d.verb | some d in dml(s)}

# Tables the statement writes, by qualified name.
written_tables(s) := {table_name(t) | some t in objects_of(s.tables); t.access == "write"} | {d.table | some d in dml(s)}

objects_of(xs) := [x | some x in xs; is_object(x)] if {
	is_array(xs)
} else := []

table_name(t) := t.qualified if {
	is_string(t.qualified)
} else := concat(".", [t.schema, t.name]) if {
	is_string(t.schema)
	is_string(t.name)
} else := t.name if {
	is_string(t.name)
} else := "?"

# Fail closed: a statement counts as a write unless the gateway says
# writes: false and nothing inside it writes.
writes(s) if {
	not s.writes == false
} else if {
	s.category == "write"
} else if {
	s.category == "ddl"
} else if {
	# CALL runs a procedure, which usually changes data.
	verb(s) == "call"
} else if {
	has_dml(s)
} else if {
	some t in s.tables
	t.access == "write"
}

# (The input checks made dml and tables arrays of objects, when present.)
has_dml(s) if count(s.dml) > 0

is_discard(x) if x.verb == "discard"

is_discard(x) if x.node == "DiscardStmt"

discard_other(s) if {
	is_string(s.text)
	not regex.match(`(?i)\ball\b`, s.text)
}

is_copy(x) if x.verb == "copy"

is_copy(x) if x.node == "CopyStmt"

is_do(x) if x.verb == "do"

is_do(x) if x.node == "DoStmt"

is_function_definition(x) if x.node == "CreateFunctionStmt"

is_function_definition(x) if {
	x.verb == "create"
	x.object_type in {"function", "procedure"}
}

is_language_definition(x) if x.node == "CreatePLangStmt"

is_language_definition(x) if {
	x.verb == "create"
	x.object_type == "language"
}

# The language of a statement that carries code. DO defaults to plpgsql as
# in PostgreSQL; a function or language definition without a language is
# judged as "unknown" (untrusted).
code_language(x, s) := lower(s.language) if {
	is_string(s.language)
} else := "plpgsql" if {
	is_do(x)
} else := "unknown"

carries_code(x) if is_do(x)

carries_code(x) if is_function_definition(x)

carries_code(x) if is_language_definition(x)
