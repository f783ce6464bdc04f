# Reading the request: typed accessors over `input` and the checks that
# decide whether it is well-formed (see docs/policy-contract.md). Every other
# file reads the input through this package, never through raw `input`
# paths that could be of the wrong type.
package warden.request

import data.warden.settings

is_human if input.identity.kind == "human"

# Anything that is not a human is judged as an agent.
is_agent if not input.identity.kind == "human"

groups := {g | some g in input.identity.groups; is_string(g)} if {
	is_array(input.identity.groups)
} else := set()

production if {
	value := input.target.labels[settings.production_label_key]
	is_string(value)
	lower(value) in settings.production_label_values
}

# Unix nanoseconds; undefined when the gateway sent no clock, in which case
# no grant is active.
now_ns := input.now.ns if is_number(input.now.ns)

grants := input.grants if {
	is_array(input.grants)
} else := []

command_fingerprint := input.command.fingerprint if {
	is_string(input.command.fingerprint)
} else := ""

is_sql if is_object(input.command.sql)

is_shell if is_object(input.command.shell)

sql_parse_error if {
	is_sql
	input.command.sql.parse_error != null
}

statements := input.command.sql.statements if {
	is_sql
	is_array(input.command.sql.statements)
} else := []

shell_parse_error if {
	is_shell
	input.command.shell.parse_error != null
}

interactive if {
	is_shell
	input.command.shell.interactive == true
}

shell_commands := input.command.shell.commands if {
	is_shell
	is_array(input.command.shell.commands)
} else := []

# The input is valid when nothing is wrong with it.
#
# `valid` is the fast check, run on every request: one pass over the
# statements or shell commands. `problems` names what is wrong and is only
# computed for the message of an invalid request; the two must agree
# (valid exactly when there are no problems).
#
# Note: each check is a rule of its own, negated with `not rule`; a negated
# call on a missing field (`not is_object(input.x)`) would be undefined
# rather than true in Rego.
valid if {
	input.identity.kind in {"agent", "human"}
	is_object(input.target)
	is_object(object.get(input.target, "labels", {}))
	protocol_part_is_valid
}

# Exactly one of sql and shell, and its statements or commands well-formed.
protocol_part_is_valid if {
	is_object(input.command.sql)
	not is_object(object.get(input.command, "shell", null))
	statements_may_be_read
	every s in statements {
		statement_is_valid(s)
	}
}

protocol_part_is_valid if {
	is_object(input.command.shell)
	not is_object(object.get(input.command, "sql", null))
	shell_commands_may_be_read
	every c in shell_commands {
		shell_command_is_valid(c)
	}
}

statements_may_be_read if {
	is_array(input.command.sql.statements)
} else if {
	input.command.sql.parse_error != null
}

shell_commands_may_be_read if {
	is_array(input.command.shell.commands)
} else if {
	input.command.shell.parse_error != null
} else if {
	input.command.shell.interactive == true
}

statement_is_valid(s) if {
	is_string(s.verb)
	is_array(object.get(s, "tables", []))
	is_array(object.get(s, "functions", []))
	is_array(object.get(s, "settings", []))
	dml := object.get(s, "dml", [])
	is_array(dml)
	every d in dml {
		is_string(d.verb)
	}
	type_name(object.get(s, "copy", null)) in {"null", "object"}
	type_name(object.get(s, "language", null)) in {"null", "string"}
}

shell_command_is_valid(c) if {
	is_string(c.program)
	is_array(object.get(c, "args", []))
}

problems contains "input is not an object" if not input_is_object

problems contains "identity is missing" if not identity_is_object

problems contains "identity.kind must be agent or human" if {
	identity_is_object
	not kind_is_known
}

problems contains "target is missing" if not target_is_object

problems contains "target.labels must be an object" if {
	target_is_object
	not labels_are_valid
}

problems contains "command is missing" if not command_is_object

problems contains "command must have exactly one of sql or shell" if {
	command_is_object
	count({p | some p in ["sql", "shell"]; is_object(input.command[p])}) != 1
}

problems contains "command.sql.statements must be an array" if {
	is_sql
	not sql_parse_error
	not statements_are_array
}

problems contains "every statement must be an object with a verb" if {
	some s in statements
	not has_verb(s)
}

problems contains "statement fields dml, tables, functions and settings must be arrays" if {
	some s in statements
	some field in ["dml", "tables", "functions", "settings"]
	field in object.keys(s)
	not array_field(s, field)
}

problems contains "every dml entry must be an object with a verb" if {
	some s in statements
	array_field(s, "dml")
	some d in s.dml
	not has_verb(d)
}

problems contains "statement fields copy must be an object and language a string" if {
	some s in statements
	some field, valid_type in {"copy": "object", "language": "string"}
	field in object.keys(s)
	s[field] != null
	type_name(s[field]) != valid_type
}

problems contains "command.shell.commands must be an array" if {
	is_shell
	not shell_parse_error
	not interactive
	not shell_commands_are_array
}

problems contains "every shell command must be an object with a program" if {
	some c in shell_commands
	not has_program(c)
}

problems contains "shell command args must be an array" if {
	some c in shell_commands
	"args" in object.keys(c)
	not array_field(c, "args")
}

input_is_object if is_object(input)

identity_is_object if is_object(input.identity)

kind_is_known if input.identity.kind in {"agent", "human"}

target_is_object if is_object(input.target)

labels_are_valid if not "labels" in object.keys(input.target)

labels_are_valid if is_object(input.target.labels)

command_is_object if is_object(input.command)

statements_are_array if is_array(input.command.sql.statements)

shell_commands_are_array if is_array(input.command.shell.commands)

has_verb(s) if is_string(s.verb)

has_program(c) if is_string(c.program)

array_field(x, field) if is_array(x[field])
