# Tunable constants of the default policy. Change values here rather than in
# the rules; every rule reads them from data.warden.settings.
package warden.settings

# A target is production when labels[production_label_key], lower-cased, is
# one of production_label_values.
production_label_key := "environment"

production_label_values := {"production", "prod"}

# The review object offered to approvers.
review_duration_seconds := 3600

review_max_duration_seconds := 28800

# Humans in this group see clear values for the categories below; secrets
# (and any category not listed) stay masked. Agents never see clear values.
clear_values_group := "pii-readers"

clear_value_categories := {"pii", "financial"}

# Languages that code may be written in (CREATE FUNCTION / PROCEDURE, DO,
# CREATE LANGUAGE). This is an allowlist: every other language (c, internal,
# plpythonu, plpython3u, plperlu, pltclu, plluau, javau, plr, plsh, ...) is
# treated as untrusted.
trusted_languages := {"sql", "plpgsql", "plperl", "pltcl", "plv8", "pllua", "java", "plrust"}

# Functions that read or write files on the database server, or large
# objects (which can be turned into server files). Matched on the
# unqualified name, so pg_catalog.pg_read_file matches too.
server_file_functions := {
	# generic file access
	"pg_read_file",
	"pg_read_binary_file",
	"pg_stat_file",
	"pg_ls_dir",
	"pg_ls_logdir",
	"pg_ls_waldir",
	"pg_ls_tmpdir",
	"pg_ls_archive_statusdir",
	"pg_ls_logicalmapdir",
	"pg_ls_logicalsnapdir",
	"pg_ls_replslotdir",
	# adminpack
	"pg_file_write",
	"pg_file_rename",
	"pg_file_unlink",
	"pg_file_sync",
	"pg_logdir_ls",
	# large objects
	"lo_import",
	"lo_export",
	"lo_from_bytea",
	"lo_get",
	"lo_put",
	"lo_open",
	"lo_close",
	"loread",
	"lowrite",
	"lo_lseek",
	"lo_lseek64",
	"lo_tell",
	"lo_tell64",
	"lo_unlink",
	"lo_create",
	"lo_creat",
	"lo_truncate",
	"lo_truncate64",
}

# Any function whose unqualified name starts with this prefix is denied.
dblink_function_prefix := "dblink"

# Settings whose change alters the session's role or authorization. "*" is
# what the gateway reports for set_config() with a non-constant name.
role_settings := {"role", "session_authorization", "*"}

# Programs (by basename) that switch user or gain privileges.
privilege_escalation_programs := {"sudo", "sudoedit", "su", "doas", "pkexec", "runuser"}

# Top-level directories whose recursive deletion is denied (as is "/").
system_directories := {
	"bin", "boot", "dev", "etc", "home", "lib", "lib32", "lib64", "libx32",
	"media", "mnt", "opt", "proc", "root", "run", "sbin", "srv", "sys",
	"usr", "var",
}

# Programs that run another program given in their arguments
# (`env sudo ...`, `nice rm -rf /`). Every argument of these is also
# checked as a program.
command_wrappers := {
	"env", "command", "builtin", "exec", "nice", "nohup", "timeout",
	"stdbuf", "ionice", "chrt", "taskset", "setsid", "time", "xargs",
	"strace", "ltrace", "watch", "flock", "unbuffer", "chroot", "busybox",
}

# Shells whose `-c` script is split into words and checked too
# (`bash -c "sudo id"`).
shell_interpreters := {"sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "fish"}
