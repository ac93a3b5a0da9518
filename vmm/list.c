// SPDX-License-Identifier: MIT
#include <string.h>

#include "format.h"
#include "list.h"
#include "verdict.h"

static const char *vendor_word(int vendor)
{
	return vendor == NVM_AMD ? "amd" : vendor == NVM_INTEL ? "intel" : "any";
}

int list_tests(const struct options *o, FILE *out)
{
	bool amd[NVM_STAGE_COUNT], intel[NVM_STAGE_COUNT];
	bool json = o->outputs[0].format == FORMAT_JSON;
	char req[256];
	int n = 0;

	/* What --tests selects, for either vendor (prerequisites included). */
	select_apply(&o->tests, NVM_AMD, amd);
	select_apply(&o->tests, NVM_INTEL, intel);
	if (json)
		fputs("{\"tests\": [\n", out);
	else
		fprintf(out, "%-28s %-5s %-6s %-26s %s\n", "TEST", "LEVEL", "VENDOR", "REQUIRES", "PURPOSE");
	for (int i = 0; i < NVM_STAGE_COUNT; i++) {
		if (!amd[i] && !intel[i])
			continue;
		select_feature_list(stage_requires[i], req, sizeof(req));
		if (json) {
			fputs(n++ ? ",\n  {" : "  {", out);
			fputs("\"name\": ", out);
			json_string(out, stage_name[i]);
			fputs(", \"level\": ", out);
			json_string(out, stage_level[i]);
			fputs(", \"vendor\": ", out);
			json_string(out, vendor_word(stage_vendor[i]));
			fputs(", \"needs\": ", out);
			json_string(out, stage_needs[i] == NVM_STAGE_NONE ? "" : stage_name[stage_needs[i]]);
			fputs(", \"requires\": [", out);
			for (int f = 0, k = 0; f < NVM_FEATURE_COUNT; f++)
				if (stage_requires[i] & (1u << f)) {
					fputs(k++ ? ", " : "", out);
					json_string(out, feature_name[f]);
				}
			fputs("], \"purpose\": ", out);
			json_string(out, stage_purpose[i]);
			fputc('}', out);
		} else {
			fprintf(out, "%-28s %-5s %-6s %-26s %s\n", stage_name[i], stage_level[i],
				vendor_word(stage_vendor[i]), req[0] ? req : "-", stage_purpose[i]);
		}
	}
	if (json) {
		fputs("\n], \"features\": [\n", out);
		for (int f = 0; f < NVM_FEATURE_COUNT; f++) {
			fputs(f ? ",\n  {\"name\": " : "  {\"name\": ", out);
			json_string(out, feature_name[f]);
			fputs(", \"what\": ", out);
			json_string(out, feature_what[f]);
			fputc('}', out);
		}
		fputs("\n]}\n", out);
	} else {
		fputs("\nFeatures a test may require (--require names):\n", out);
		for (int f = 0; f < NVM_FEATURE_COUNT; f++)
			fprintf(out, "  %-20s %s\n", feature_name[f], feature_what[f]);
	}
	fflush(out);
	return ferror(out) ? -1 : 0;
}
