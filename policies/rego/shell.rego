# Shell rules: what a command line (command.shell) is denied for, or needs
# review for. Findings are {"key": "command", "code", "message"}.
#
# The gateway lists every simple command of the line. To see through common
# indirections, the programs checked ("candidates") also include:
#   - every argument of a wrapper (`env sudo id`, `nice -n 5 rm -rf /`),
#   - the command after `find ... -exec`,
#   - every word of a shell's -c script and of `eval` (`bash -c "sudo id"`).
# This is a best effort: a script on disk or another interpreter
# (`python -c ...`) is not looked into; production hosts rely on review.
package warden.shell

import data.warden.request
import data.warden.settings

# ---------------------------------------------------------------------------
# deny

deny contains finding("shell.parse_error", "the command line could not be parsed, so it cannot be checked") if {
	request.shell_parse_error
}

deny contains finding("shell.privilege_escalation", msg) if {
	some c in candidates
	c.program in settings.privilege_escalation_programs
	msg := concat("", ["privilege escalation (", c.program, ") is not allowed"])
}

deny contains finding("shell.recursive_delete_system_path", msg) if {
	some c in candidates
	c.program == "rm"
	some a in rm_options(c.args)
	recursive_flag(a)
	some t in rm_targets(c.args)
	system_path(t)
	msg := concat("", ["recursive deletion of ", t, " is not allowed"])
}

deny contains finding("shell.recursive_delete_system_path", "rm --no-preserve-root is not allowed") if {
	some c in candidates
	c.program == "rm"
	some a in rm_options(c.args)
	no_preserve_root_flag(a)
}

deny contains finding("shell.recursive_delete_system_path", msg) if {
	some c in candidates
	c.program == "find"
	find_deletes(c.args)
	some t in c.args
	system_path(t)
	msg := concat("", ["recursive deletion of ", t, " is not allowed"])
}

# ---------------------------------------------------------------------------
# review

review contains finding("shell.production_agent", msg) if {
	request.is_shell
	request.is_agent
	request.production
	msg := production_message
}

production_message := "agents need an approved grant to open a shell on production hosts" if {
	request.interactive
} else := "agents need an approved grant to run commands on production hosts"

# ---------------------------------------------------------------------------
# candidates: {"program": basename, "args": [...]}

finding(code, message) := {"key": "command", "code": code, "message": message}

# "/usr/bin/sudo" -> "sudo"; quotes and a leading backslash are dropped.
basename(p) := parts[count(parts) - 1] if parts := split(trim(p, "\"'\\"), "/")

string_args(c) := [a | some a in c.args; is_string(a)] if {
	is_array(c.args)
} else := []

# The candidates are objects keyed by where they come from (an array:
# the position of the simple command, then of the unwrapping), not sets of
# objects: hashing whole objects with their arguments is costly in
# WebAssembly, and this runs for every command line.
written[[j]] := {"program": basename(c.program), "args": string_args(c)} if {
	some j, c in request.shell_commands
	is_string(c.program)
}

unwrapped[k] := c if some k, c in written

unwrapped[array.concat(k, ["wrapped", j])] := {"program": program, "args": array.slice(c.args, j + 1, count(c.args))} if {
	some k, c in written
	c.program in settings.command_wrappers
	some j, a in c.args
	program := basename(a)
	program in checked_programs
}

unwrapped[array.concat(k, ["exec", j])] := {"program": basename(a), "args": array.slice(c.args, j + 1, count(c.args))} if {
	some k, c in written
	c.program == "find"
	some j, a in c.args
	j > 0
	c.args[j - 1] in find_exec_flags
}

find_exec_flags := {"-exec", "-execdir", "-ok", "-okdir"}

candidates[k] := c if some k, c in unwrapped

candidates[array.concat(k, [script, n, j])] := {"program": program, "args": array.slice(words, j + 1, count(words))} if {
	some k, c in unwrapped
	some script in scripts(c)
	some n, segment in split(separate(script), ";")
	words := words_of(segment)
	some j, w in words
	program := basename(trim(w, "$(){}"))
	program in checked_programs
}

# The programs the rules look at; other words are not unwrapped, which keeps
# long argument lists cheap.
checked_programs := (settings.privilege_escalation_programs | settings.command_wrappers) | (settings.shell_interpreters | {"rm", "find", "eval"})

# The -c script of a shell (`bash -c`, `sh -ec`), or the words of `eval`.
scripts(c) := {c.args[j + 1] |
	some j, a in c.args
	regex.match(`^-[A-Za-z]*c[A-Za-z]*$`, a)
	j + 1 < count(c.args)
} if {
	c.program in settings.shell_interpreters
} else := {concat(" ", c.args)} if {
	c.program == "eval"
} else := set()

# Turns command separators into ";".
separate(script) := strings.replace_n({"&": ";", "|": ";", "`": ";", "\n": ";"}, script)

# The words of a simple command, without quotes and without the parentheses
# of subshells and command substitutions around them: "(sudo" -> "sudo".
words_of(segment) := [word |
	some w in split(strings.replace_n({"\t": " ", "\"": "", "'": ""}, segment), " ")
	word := trim(w, "()")
	word != ""
]

# ---------------------------------------------------------------------------
# rm and find

# Options are the arguments before "--" that start with "-" (GNU rm accepts
# options after operands); operands are the others and everything after "--".
end_of_options(args) := min({j | some j, a in args; a == "--"}) if {
	"--" in args
} else := count(args)

rm_options(args) := [a |
	some j, a in args
	j < end_of_options(args)
	startswith(a, "-")
]

rm_targets(args) := [a |
	some j, a in args
	j != end_of_options(args)
	not is_option(a, j, args)
]

is_option(a, j, args) if {
	j < end_of_options(args)
	startswith(a, "-")
	a != "-"
}

# -r, -R, and any combination such as -rf, -fR, -Rf.
recursive_flag(a) if regex.match(`^-[A-Za-z]*[rR][A-Za-z]*$`, a)

# --recursive, or an unambiguous abbreviation of it (GNU getopt).
recursive_flag(a) if {
	startswith(a, "--r")
	startswith("--recursive", a)
}

# --no-preserve-root, or an unambiguous abbreviation of it.
no_preserve_root_flag(a) if {
	startswith(a, "--n")
	startswith("--no-preserve-root", a)
}

find_deletes(args) if "-delete" in args

find_deletes(args) if {
	some j, a in args
	a in find_exec_flags
	basename(args[j + 1]) == "rm"
}

# ---------------------------------------------------------------------------
# system paths

# True for "/", "/*" and a top-level system directory ("/etc", "/etc/",
# "/etc/*", "/./etc", "/tmp/../etc", "/e*", "$UNSET/etc"). Variables and
# command substitutions are assumed to expand to nothing, the worst case for
# `rm -rf "$DIR/"*`.
system_path(t) if {
	p := without_expansions(t)
	startswith(p, "/")
	top := without_trailing_glob(resolve(p))
	system_top(top)
}

system_top(top) if count(top) == 0

system_top(top) if {
	count(top) == 1
	system_directory(top[0])
}

system_directory(name) if name in settings.system_directories

system_directory(name) if {
	regex.match(`[*?\[{]`, name)
	some d in settings.system_directories
	glob.match(name, ["/"], d)
}

without_expansions(t) := without_variables(without_backticks(strings.replace_n({"\"": "", "'": ""}, t)))

without_backticks(t) := concat("", [part | some k, part in split(t, "`"); k % 2 == 0])

without_variables(t) := concat("", array.concat([parts[0]], [after_variable(p) | some k, p in parts; k > 0])) if {
	parts := split(t, "$")
}

# The text after a variable reference or command substitution that
# starts p (p follows a "$").
after_variable(p) := substring(p, indexof(p, "}") + 1, -1) if {
	startswith(p, "{")
	indexof(p, "}") >= 0
} else := substring(p, indexof(p, ")") + 1, -1) if {
	startswith(p, "(")
	indexof(p, ")") >= 0
} else := "" if {
	regex.match(`^[({]`, p)
} else := substring(p, count(m[0][0]), -1) if {
	m := regex.find_all_string_submatch_n(`^([A-Za-z_][A-Za-z0-9_]*|[0-9@*#?!$-])`, p, 1)
	count(m) > 0
} else := p

# Path segments with "", "." and ".." resolved: "/a/./b/../c" -> ["a", "c"].
resolve(p) := [x | some k, x in segments; x != ".."; not cancelled(segments, k)] if {
	segments := [x | some x in split(p, "/"); x != ""; x != "."]
}

# A name is removed by the ".." that follow it when, in some window starting
# at the name, there are at least as many ".." as names.
cancelled(segments, k) if {
	some m, _ in segments
	m > k
	window := array.slice(segments, k, m + 1)
	2 * count([x | some x in window; x == ".."]) >= count(window)
}

without_trailing_glob(segments) := array.slice(segments, 0, count(segments) - 1) if {
	count(segments) > 0
	regex.match(`^\*+$`, segments[count(segments) - 1])
} else := segments
