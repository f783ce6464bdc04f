# The mask plan for agents, humans who may see PII, and other humans.
package warden_test.mask

import data.warden_test.lib

select_customers(identity) := lib.sql_input(identity, lib.production_db, [lib.stmt(0, {
	"tables": [lib.tbl("public", "customers", "read")],
	"text": "SELECT email, phone, card_number, api_token FROM public.customers",
})])

test_agents_get_every_rule if {
	lib.decide(select_customers(lib.agent)).mask == {"rules": lib.all_mask_ids}
}

test_agents_in_the_pii_group_still_get_every_rule if {
	agent := object.union(lib.agent, {"groups": ["pii-readers"]})
	lib.decide(select_customers(agent)).mask.rules == lib.all_mask_ids
}

test_pii_readers_see_pii_and_financial_in_clear_but_not_secrets if {
	lib.decide(select_customers(lib.pii_reader)).mask.rules == ["secret.credentials"]
}

test_other_humans_get_every_rule if {
	lib.decide(select_customers(lib.human)).mask.rules == lib.all_mask_ids
}

test_humans_without_groups_get_every_rule if {
	human := object.remove(lib.human, ["groups"])
	lib.decide(select_customers(human)).mask.rules == lib.all_mask_ids
}

# A rule of a category the policy does not know stays masked even for PII
# readers.
test_unknown_category_stays_masked_for_pii_readers if {
	rules := array.concat(lib.masking_rules, [{"id": "health.diagnosis", "category": "health"}, {"id": "nocat"}])
	d := data.warden.decision with input as select_customers(lib.pii_reader) with data.warden.masking.rules as rules
	d.mask.rules == ["health.diagnosis", "nocat", "secret.credentials"]
}

test_missing_masking_data_gives_empty_plan if {
	d := data.warden.decision with input as select_customers(lib.agent)
	d.action == "allow"
	d.mask == {"rules": []}
}

test_malformed_masking_data_is_ignored if {
	d := data.warden.decision with input as select_customers(lib.agent) with data.warden.masking.rules as {"pii.email": {}}
	d.mask.rules == []
	e := data.warden.decision with input as select_customers(lib.agent) with data.warden.masking.rules as [{"category": "pii"}, "pii.email", {"id": "pii.email", "category": "pii"}]
	e.mask.rules == ["pii.email"]
}

test_mask_plan_present_when_denied if {
	d := lib.decide(lib.sql_input(lib.agent, lib.production_db, [lib.drop_table(0)]))
	d.action == "deny"
	d.mask.rules == lib.all_mask_ids
}
