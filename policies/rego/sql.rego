# SQL rules: what each statement of command.sql.statements is denied for,
# or needs review for. Findings are {"key": position, "code", "message"};
# a parse error of the whole text has key "command".
package warden.sql

import data.warden.request
import data.warden.settings

# ---------------------------------------------------------------------------
# deny

deny contains finding("command", "sql.parse_error", "the query could not be parsed, so it cannot be checked") if {
	request.sql_parse_error
}

deny contains finding(i, "sql.drop", "DROP statements are not allowed") if {
	some i, s in request.statements
	is_drop(s)
}

deny contains finding(i, "sql.truncate", "TRUNCATE is not allowed") if {
	some i, s in request.statements
	is_truncate(s)
}

deny contains finding(i, "sql.alter_system", "ALTER SYSTEM is not allowed") if {
	some i, s in request.statements
	is_alter_system(s)
}

deny contains finding(i, "sql.role_management", "creating, altering or dropping roles is not allowed") if {
	some i, s in request.statements
	is_role_management(s)
}

deny contains finding(i, "sql.privileges", "GRANT, REVOKE and changes of privileges or ownership are not allowed") if {
	some i, s in request.statements
	is_privileges(s)
}

deny contains finding(i, "sql.role_change", "changing the session's role or authorization is not allowed") if {
	some i, s in request.statements
	is_role_change(s)
}

deny contains finding(i, "sql.copy_program", "COPY to or from a program is not allowed") if {
	some i, s in request.statements
	copy_flag(s, "program")
}

deny contains finding(i, "sql.copy_file", "COPY to or from a file on the database server is not allowed") if {
	some i, s in request.statements
	copy_flag(s, "file")
}

deny contains finding(i, "sql.server_file_function", msg) if {
	some i, s in request.statements
	some f in functions(s)
	unqualified(f) in settings.server_file_functions
	msg := concat("", ["the function ", f, " is not allowed: it reads or writes files on the database server"])
}

deny contains finding(i, "sql.dblink", msg) if {
	some i, s in request.statements
	some f in functions(s)
	startswith(unqualified(f), settings.dblink_function_prefix)
	msg := concat("", ["the function ", f, " is not allowed: dblink connects to other databases"])
}

deny contains finding(i, "sql.create_extension", "CREATE EXTENSION is not allowed") if {
	some i, s in request.statements
	is_create_extension(s)
}

deny contains finding(i, "sql.untrusted_language", msg) if {
	some i, s in request.statements
	lang := code_language(s)
	not lang in settings.trusted_languages
	msg := concat("", ["code in the untrusted language \"", lang, "\" is not allowed"])
}

deny contains finding(i, "sql.untrusted_language", "LOAD of a server library is not allowed") if {
	some i, s in request.statements
	node(s) == "LoadStmt"
}

deny contains finding(i, "sql.anonymous_block", "agents may not run anonymous code blocks (DO)") if {
	request.is_agent
	some i, s in request.statements
	is_do(s)
}

deny contains finding(i, "sql.foreign_server", "creating or changing foreign servers, user mappings or subscriptions is not allowed") if {
	some i, s in request.statements
	is_foreign_server(s)
}

deny contains finding(i, "sql.unknown_prepared", "EXECUTE of a statement not prepared through the gateway is not allowed") if {
	some i, s in request.statements
	s.prepared_unknown == true
}

# ---------------------------------------------------------------------------
# review

review contains finding(i, "sql.unbounded_write", msg) if {
	some i, s in request.statements
	some d in dml(s)
	d.verb in {"update", "delete"}
	not d.has_where == true
	msg := unbounded_message(d.verb, d.table)
}

# Fail closed: an UPDATE or DELETE statement for which the gateway reported
# no data change is treated as unbounded.
review contains finding(i, "sql.unbounded_write", msg) if {
	some i, s in request.statements
	verb(s) in {"update", "delete"}
	count(dml(s)) == 0
	msg := unbounded_message(verb(s), "?")
}

review contains finding(i, "sql.write_in_production", "agents need an approved grant to write to production targets") if {
	request.is_agent
	request.production
	some i, s in request.statements
	writes(s)
}

unbounded_message(verb, table) := concat("", [upper(verb), " without a WHERE clause needs approval"]) if {
	table == "?"
} else := concat("", [upper(verb), " without a WHERE clause on ", table, " needs approval"])

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

strings_of(xs) := [x | some x in xs; is_string(x)] if {
	is_array(xs)
} else := []

functions(s) := {lower(f) | some f in strings_of(s.functions)}

settings_changed(s) := {lower(x) | some x in strings_of(s.settings)}

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
writes(s) if not s.writes == false

writes(s) if count(written_tables(s)) > 0

writes(s) if s.category in {"write", "ddl"}

# CALL runs a procedure, which usually changes data.
writes(s) if verb(s) == "call"

is_drop(s) if verb(s) == "drop"

is_drop(s) if startswith(node(s), "Drop")

is_truncate(s) if verb(s) == "truncate"

is_truncate(s) if node(s) == "TruncateStmt"

is_alter_system(s) if object_type(s) == "system"

is_alter_system(s) if node(s) == "AlterSystemStmt"

is_role_management(s) if object_type(s) in {"role", "user", "group"}

is_role_management(s) if node(s) in {"CreateRoleStmt", "AlterRoleStmt", "AlterRoleSetStmt", "DropRoleStmt"}

is_privileges(s) if verb(s) in {"grant", "revoke"}

is_privileges(s) if object_type(s) == "default_privileges"

is_privileges(s) if node(s) in {"GrantStmt", "GrantRoleStmt", "AlterDefaultPrivilegesStmt", "ReassignOwnedStmt"}

is_role_change(s) if {
	some x in settings_changed(s)
	x in settings.role_settings
}

# DISCARD ALL runs SET SESSION AUTHORIZATION DEFAULT. Without the statement
# text the DISCARD is assumed to be DISCARD ALL.
is_role_change(s) if {
	is_discard(s)
	not discard_other(s)
}

is_discard(s) if verb(s) == "discard"

is_discard(s) if node(s) == "DiscardStmt"

discard_other(s) if {
	is_string(s.text)
	not regex.match(`(?i)\ball\b`, s.text)
}

is_copy(s) if verb(s) == "copy"

is_copy(s) if node(s) == "CopyStmt"

# Fail closed: a COPY whose copy details are missing counts as both.
copy_flag(s, flag) if {
	is_copy(s)
	not s.copy[flag] == false
}

is_create_extension(s) if node(s) == "CreateExtensionStmt"

is_create_extension(s) if {
	verb(s) == "create"
	object_type(s) == "extension"
}

is_do(s) if verb(s) == "do"

is_do(s) if node(s) == "DoStmt"

is_function_definition(s) if node(s) == "CreateFunctionStmt"

is_function_definition(s) if {
	verb(s) == "create"
	object_type(s) in {"function", "procedure"}
}

is_language_definition(s) if node(s) == "CreatePLangStmt"

is_language_definition(s) if {
	verb(s) == "create"
	object_type(s) == "language"
}

# The language of a statement that carries code. DO defaults to plpgsql as
# in PostgreSQL; a function or language definition without a language is
# judged as "unknown" (untrusted).
code_language(s) := lower(s.language) if {
	carries_code(s)
	is_string(s.language)
} else := "plpgsql" if {
	is_do(s)
} else := "unknown" if {
	carries_code(s)
}

carries_code(s) if is_do(s)

carries_code(s) if is_function_definition(s)

carries_code(s) if is_language_definition(s)

is_foreign_server(s) if object_type(s) in {"server", "user_mapping", "foreign_data_wrapper", "subscription"}

is_foreign_server(s) if node(s) in {
	"CreateForeignServerStmt", "AlterForeignServerStmt",
	"CreateUserMappingStmt", "AlterUserMappingStmt",
	"CreateFdwStmt", "AlterFdwStmt",
	"CreateSubscriptionStmt", "AlterSubscriptionStmt",
}
