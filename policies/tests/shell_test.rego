# Shell rules: privilege escalation, recursive deletes of system paths,
# parse errors and agents on production hosts.
package warden_test.shell

import data.warden_test.lib

denied_with(inp, code) if {
	d := lib.decide(inp)
	d.action == "deny"
	code in lib.codes(d)
	d.statements == []
	every r in d.reasons {
		not "statement" in object.keys(r)
	}
}

allowed(inp) if {
	d := lib.decide(inp)
	d.action == "allow"
	d.reasons == []
}

# --- privilege escalation -------------------------------------------------------

test_privilege_escalation_denied if {
	every words in [
		["sudo", "id"],
		["sudo", "-i"],
		["/usr/bin/sudo", "cat", "/etc/shadow"],
		["su", "-"],
		["/bin/su", "root", "-c", "id"],
		["doas", "sh"],
		["pkexec", "bash"],
		["runuser", "-u", "postgres", "--", "psql"],
		["sudoedit", "/etc/hosts"],
	] {
		denied_with(lib.line(words), "shell.privilege_escalation")
	}
}

test_privilege_escalation_anywhere_in_the_line_denied if {
	inp := lib.shell_input(lib.human, lib.staging_host, "ls | sudo tee /etc/motd", [
		lib.cmd("ls", []),
		lib.cmd("sudo", ["tee", "/etc/motd"]),
	])
	denied_with(inp, "shell.privilege_escalation")
}

test_privilege_escalation_through_wrappers_denied if {
	every words in [
		["env", "FOO=1", "sudo", "id"],
		["nice", "-n", "10", "/usr/bin/sudo", "id"],
		["timeout", "5", "su", "-c", "id"],
		["bash", "-c", "sudo id"],
		["sh", "-ec", "cd /tmp && doas ls"],
		["eval", "sudo", "id"],
		["bash", "-c", "(sudo id)"],
		["bash", "-c", "echo $(sudo id)"],
		["zsh", "-c", "{ doas id; }"],
		["find", ".", "-exec", "sudo", "rm", "{}", ";"],
	] {
		denied_with(lib.line(words), "shell.privilege_escalation")
	}
}

test_lookalikes_of_privilege_escalation_allowed if {
	every words in [
		["ls", "-la"],
		["echo", "sudo"],
		["sudoku"],
		["grep", "su", "/var/log/auth.log"],
		["bash", "-c", "echo hello"],
		["find", ".", "-name", "sudo"],
	] {
		allowed(lib.line(words))
	}
}

# --- recursive delete of system paths --------------------------------------------

test_recursive_delete_of_system_paths_denied if {
	every words in [
		["rm", "-rf", "/"],
		["rm", "-rf", "/*"],
		["rm", "-r", "/etc"],
		["rm", "-R", "/etc/"],
		["rm", "-fR", "/usr"],
		["rm", "-Rf", "/var/*"],
		["rm", "-rfv", "/home/"],
		["rm", "--recursive", "/boot"],
		["rm", "--recursive", "--force", "/opt"],
		["rm", "--rec", "/srv"],
		["rm", "-r", "-f", "/root"],
		["rm", "-r", "/bin", "/tmp/x"],
		["rm", "-rf", "--", "/sbin"],
		["rm", "/lib", "-rf"],
		["rm", "-rf", "/lib64"],
		["rm", "-rf", "/sys", "/proc", "/dev"],
		["/bin/rm", "-rf", "/etc"],
		["rm", "-rf", "//etc//"],
		["rm", "-rf", "/./etc/."],
		["rm", "-rf", "/tmp/../etc"],
		["rm", "-rf", "/tmp/.."],
		["rm", "-rf", "/e*"],
		["rm", "-rf", "/{tmp,usr}"],
		["rm", "-rf", "/*/*"],
		["rm", "-rf", "\"$STEAMROOT/\"*"],
		["rm", "-rf", "${PREFIX}/usr"],
		["rm", "-rf", "$(dirname x)/etc"],
		["rm", "-rf", "`pwd`/etc"],
		["rm", "-rf", "'/etc'"],
	] {
		denied_with(lib.line(words), "shell.recursive_delete_system_path")
	}
}

test_no_preserve_root_denied if {
	denied_with(lib.line(["rm", "--no-preserve-root", "-rf", "/tmp/x"]), "shell.recursive_delete_system_path")
	denied_with(lib.line(["rm", "-rf", "--no-pres", "/tmp/x"]), "shell.recursive_delete_system_path")
}

test_recursive_delete_through_wrappers_denied if {
	every words in [
		["env", "rm", "-rf", "/etc"],
		["nohup", "rm", "-rf", "/var"],
		["bash", "-c", "cd /tmp; rm -rf /usr"],
		["sh", "-c", "rm -rf \"$DIR\"/*"],
		["bash", "-c", "rm -rf ${DIR}/etc"],
		["bash", "-c", "(rm -rf /etc)"],
		["bash", "-c", "rm -rf $(pwd)/usr && ls"],
		["bash", "-c", "rm -rf /{tmp,usr}"],
		["find", "/tmp", "-exec", "rm", "-rf", "/etc", ";"],
		["find", "/", "-name", "*.log", "-delete"],
		["find", "/etc", "-exec", "rm", "-f", "{}", "+"],
	] {
		denied_with(lib.line(words), "shell.recursive_delete_system_path")
	}
}

test_deletes_that_are_not_recursive_system_deletes_allowed if {
	every words in [
		["rm", "-rf", "/tmp/build"],
		["rm", "-rf", "./etc"],
		["rm", "-rf", "etc"],
		["rm", "-rf", "/etc/nginx/conf.d"],
		["rm", "-rf", "/home/alice/.cache"],
		["rm", "-rf", "/var/tmp/*"],
		["rm", "-rf", "$HOME/.cache"],
		["rm", "-f", "/etc"],
		["rm", "/etc/motd"],
		["rm", "--", "-r", "/etc"],
		["rm", "--force", "/boot"],
		["find", "/tmp", "-name", "*.tmp", "-delete"],
		["find", "/etc", "-name", "*.conf"],
		["ls", "-R", "/etc"],
		["cp", "-r", "/etc", "/tmp/etc"],
	] {
		allowed(lib.line(words))
	}
}

test_recursive_delete_message_names_the_path if {
	d := lib.decide(lib.line(["rm", "-rf", "/etc"]))
	d.reasons == [{"code": "shell.recursive_delete_system_path", "message": "recursive deletion of /etc is not allowed"}]
}

# --- parse errors --------------------------------------------------------------

test_shell_parse_error_denied if {
	inp := lib.shell_input(lib.human, lib.staging_host, "echo 'unterminated", [])
	d := lib.decide(object.union(inp, {"command": {"shell": {"parse_error": "unterminated quoted string"}}}))
	d.action == "deny"
	d.reasons == [{"code": "shell.parse_error", "message": "the command line could not be parsed, so it cannot be checked"}]
}

test_shell_without_parse_error_allowed if {
	d := lib.decide(lib.line(["echo", "hello"]))
	d.action == "allow"
	not "shell.parse_error" in lib.codes(d)
}

# --- agents on production hosts ------------------------------------------------

test_agent_command_on_production_host_reviewed if {
	inp := lib.shell_input(lib.agent, lib.production_host, "df -h", [lib.cmd("df", ["-h"])])
	d := lib.decide(inp)
	d.action == "review"
	d.reasons == [{"code": "shell.production_agent", "message": "agents need an approved grant to run commands on production hosts"}]
	d.review == {
		"scope": {"kind": "fingerprint", "fingerprints": ["fp:df -h"]},
		"duration_seconds": 3600,
		"max_duration_seconds": 28800,
	}
	d.statements == []
}

test_agent_interactive_shell_on_production_host_reviewed if {
	d := lib.decide(lib.interactive_input(lib.agent, lib.production_host))
	d.action == "review"
	d.reasons[0].code == "shell.production_agent"
	d.reasons[0].message == "agents need an approved grant to open a shell on production hosts"
	d.review.scope == {"kind": "fingerprint", "fingerprints": ["fp:interactive"]}
}

test_agent_denied_command_on_production_host_is_denied_not_reviewed if {
	inp := lib.shell_input(lib.agent, lib.production_host, "sudo reboot", [lib.cmd("sudo", ["reboot"])])
	d := lib.decide(inp)
	d.action == "deny"
	lib.codes(d) == {"shell.privilege_escalation"}
}

test_human_command_on_production_host_allowed if {
	allowed(lib.shell_input(lib.human, lib.production_host, "df -h", [lib.cmd("df", ["-h"])]))
	allowed(lib.interactive_input(lib.human, lib.production_host))
}

test_agent_command_on_staging_host_allowed if {
	allowed(lib.shell_input(lib.agent, lib.staging_host, "df -h", [lib.cmd("df", ["-h"])]))
	allowed(lib.interactive_input(lib.agent, lib.staging_host))
}
