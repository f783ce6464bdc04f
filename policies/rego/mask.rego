# The mask plan: which masking rules (data.warden.masking.rules) apply to
# the results of this command. Agents never see clear values; humans in the
# clear-values group see the categories settings.clear_value_categories in
# clear (secrets stay masked); other humans see everything masked.
package warden.mask

import data.warden.request
import data.warden.settings

all_ids := {r.id | some r in data.warden.masking.rules; is_string(r.id)} if {
	is_array(data.warden.masking.rules)
} else := set()

# Rules whose category is not shown in clear; a rule without a known
# category is always applied.
masked_for_readers := {r.id |
	some r in data.warden.masking.rules
	is_string(r.id)
	not clear_category(r)
}

clear_category(r) if r.category in settings.clear_value_categories

sees_clear_values if {
	request.is_human
	settings.clear_values_group in request.groups
}

rules := sort(masked_for_readers) if {
	sees_clear_values
	is_array(data.warden.masking.rules)
} else := sort(all_ids)
