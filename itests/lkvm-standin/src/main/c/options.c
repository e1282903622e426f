/* Option parsing with the behaviour of lkvm's parse-options: abbreviations, --no-x, usage, exit 129. */
#include "lkvm-standin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FL_SHORT 1
#define FL_UNSET 2

struct parse_ctx {
	const char **argv;
	int argc;
	const char *opt;	/* rest of an aggregated short option or "=value" */
};

#define USAGE_OPTS_WIDTH 24
#define USAGE_GAP 2

static void usage_print(const char *const *usagestr, const struct option *opts)
{
	fprintf(stderr, "\n usage: %s\n", *usagestr++);
	while (*usagestr && **usagestr)
		fprintf(stderr, "    or: %s\n", *usagestr++);
	while (*usagestr) {
		fprintf(stderr, "%s%s\n", **usagestr ? "    " : "", *usagestr);
		usagestr++;
	}
	if (opts->type != O_GROUP)
		fputc('\n', stderr);
	for (; opts->type != O_END; opts++) {
		int pos, pad;

		if (opts->type == O_GROUP) {
			fputc('\n', stderr);
			if (*opts->help)
				fprintf(stderr, "%s\n", opts->help);
			continue;
		}
		pos = fprintf(stderr, "    ");
		if (opts->short_name)
			pos += fprintf(stderr, "-%c", opts->short_name);
		else
			pos += fprintf(stderr, "    ");
		if (opts->long_name && opts->short_name)
			pos += fprintf(stderr, ", ");
		if (opts->long_name)
			pos += fprintf(stderr, "--%s", opts->long_name);
		switch (opts->type) {
		case O_INT:
		case O_U64:
			pos += fprintf(stderr, " <n>");
			break;
		case O_CALLBACK:
			if (opts->flags & OF_NOARG)
				break;
			/* fall through */
		case O_STRING:
			if (opts->argh)
				pos += fprintf(stderr, " <%s>", opts->argh);
			else
				pos += fprintf(stderr, " ...");
			break;
		default:
			break;
		}
		if (pos <= USAGE_OPTS_WIDTH) {
			pad = USAGE_OPTS_WIDTH - pos;
		} else {
			fputc('\n', stderr);
			pad = USAGE_OPTS_WIDTH;
		}
		fprintf(stderr, "%*s%s\n", pad + USAGE_GAP, "", opts->help);
	}
	fputc('\n', stderr);
}

void usage_with_options(const char *const *usagestr, const struct option *opts)
{
	usage_print(usagestr, opts);
	exit(129);
}

static int opterror(const struct option *opt, const char *reason, int flags)
{
	if (flags & FL_SHORT)
		pr_err("switch `%c' %s", opt->short_name, reason);
	else if (flags & FL_UNSET)
		pr_err("option `no-%s' %s", opt->long_name, reason);
	else
		pr_err("option `%s' %s", opt->long_name, reason);
	return -1;
}

static int get_arg(struct parse_ctx *p, const struct option *opt, int flags, const char **arg)
{
	if (p->opt) {
		*arg = p->opt;
		p->opt = NULL;
	} else if ((opt->flags & OF_LASTARG_DEFAULT) && (p->argc == 1 || p->argv[1][0] == '-')) {
		*arg = NULL;
	} else if (p->argc > 1) {
		p->argc--;
		*arg = *++p->argv;
	} else {
		return opterror(opt, "requires a value", flags);
	}
	return 0;
}

static int get_value(struct parse_ctx *p, const struct option *opt, int flags)
{
	const char *arg = NULL;
	int unset = flags & FL_UNSET;

	if (unset && p->opt)
		return opterror(opt, "takes no value", flags);
	if (!(flags & FL_SHORT) && p->opt) {
		if (opt->type == O_BOOL || (opt->type == O_CALLBACK && (opt->flags & OF_NOARG)))
			return opterror(opt, "takes no value", flags);
	}
	switch (opt->type) {
	case O_BOOL:
		*(bool *)opt->value = !unset;
		return 0;
	case O_STRING:
		if (unset) {
			*(const char **)opt->value = NULL;
			return 0;
		}
		return get_arg(p, opt, flags, (const char **)opt->value);
	case O_CALLBACK:
		if (unset)
			return opt->callback(opt, NULL, 1) ? -1 : 0;
		if (opt->flags & OF_NOARG)
			return opt->callback(opt, NULL, 0) ? -1 : 0;
		if (get_arg(p, opt, flags, &arg))
			return -1;
		return opt->callback(opt, arg, 0) ? -1 : 0;
	case O_INT:
		if (unset) {
			*(int *)opt->value = 0;
			return 0;
		}
		if (get_arg(p, opt, flags, &arg))
			return -1;
		*(int *)opt->value = strtol(arg, NULL, 0);
		return 0;
	case O_U64:
		if (unset) {
			*(u64 *)opt->value = 0;
			return 0;
		}
		if (get_arg(p, opt, flags, &arg))
			return -1;
		*(u64 *)opt->value = strtoull(arg, NULL, 0);
		return 0;
	default:
		die("should not happen, someone must be hit on the forehead");
	}
}

static const char *skip_prefix(const char *str, const char *prefix)
{
	size_t len = strlen(prefix);

	return strncmp(str, prefix, len) ? NULL : str + len;
}

static bool starts_with(const char *str, const char *prefix)
{
	return strncmp(str, prefix, strlen(prefix)) == 0;
}

static int parse_short_opt(struct parse_ctx *p, const struct option *options)
{
	for (; options->type != O_END; options++) {
		if (options->type != O_GROUP && options->short_name == *p->opt) {
			p->opt = p->opt[1] ? p->opt + 1 : NULL;
			return get_value(p, options, FL_SHORT);
		}
	}
	return -2;
}

static int parse_long_opt(struct parse_ctx *p, const char *arg, const struct option *options)
{
	const char *arg_end = strchr(arg, '=');
	const struct option *abbrev = NULL, *ambiguous = NULL;
	int abbrev_flags = 0, ambiguous_flags = 0;

	if (!arg_end)
		arg_end = arg + strlen(arg);
	for (; options->type != O_END; options++) {
		const char *rest;
		int flags = 0;

		if (!options->long_name || options->type == O_GROUP)
			continue;
		rest = skip_prefix(arg, options->long_name);
		if (!rest) {
			if (!strncmp(options->long_name, arg, arg_end - arg)) {
is_abbreviated:
				if (abbrev) {
					ambiguous = abbrev;
					ambiguous_flags = abbrev_flags;
				}
				if (!(flags & FL_UNSET) && *arg_end)
					p->opt = arg_end + 1;
				abbrev = options;
				abbrev_flags = flags;
				continue;
			}
			if (starts_with("no-", arg)) {
				flags |= FL_UNSET;
				goto is_abbreviated;
			}
			if (strncmp(arg, "no-", 3))
				continue;
			flags |= FL_UNSET;
			rest = skip_prefix(arg + 3, options->long_name);
			if (!rest && starts_with(options->long_name, arg + 3))
				goto is_abbreviated;
			if (!rest)
				continue;
		}
		if (*rest) {
			if (*rest != '=')
				continue;
			p->opt = rest + 1;
		}
		return get_value(p, options, flags);
	}
	if (ambiguous) {
		pr_err("Ambiguous option: %s (could be --%s%s or --%s%s)", arg,
		       (ambiguous_flags & FL_UNSET) ? "no-" : "", ambiguous->long_name,
		       (abbrev_flags & FL_UNSET) ? "no-" : "", abbrev->long_name);
		return -1;
	}
	if (abbrev)
		return get_value(p, abbrev, abbrev_flags);
	return -2;
}

static void check_typos(const char *arg, const struct option *options)
{
	if (strlen(arg) < 3)
		return;
	if (starts_with(arg, "no-")) {
		pr_err("did you mean `--%s` (with two dashes ?)", arg);
		exit(129);
	}
	for (; options->type != O_END; options++) {
		if (options->long_name && options->type != O_GROUP && starts_with(options->long_name, arg)) {
			pr_err("did you mean `--%s` (with two dashes ?)", arg);
			exit(129);
		}
	}
}

/*
 * Parses options until the first non-option; returns how many arguments are
 * left, moved to the front of argv. Errors print lkvm's messages and usage
 * and exit 129.
 */
int parse_options(int argc, const char **argv, const struct option *options,
		  const char *const *usagestr, bool keep_dashdash)
{
	struct parse_ctx c = { argv, argc, NULL };
	const char *unknown_arg = NULL;
	char unknown_short = 0;
	int i;

	for (; c.argc; c.argc--, c.argv++) {
		const char *arg = c.argv[0];

		c.opt = NULL;
		if (*arg != '-' || !arg[1])
			break;
		if (arg[1] != '-') {
			c.opt = arg + 1;
			if (*c.opt == 'h')
				usage_with_options(usagestr, options);
			switch (parse_short_opt(&c, options)) {
			case -1:
				usage_with_options(usagestr, options);
			case -2:
				unknown_short = *c.opt;
				goto unknown;
			}
			if (c.opt)
				check_typos(arg + 1, options);
			while (c.opt) {
				if (*c.opt == 'h')
					usage_with_options(usagestr, options);
				switch (parse_short_opt(&c, options)) {
				case -1:
					usage_with_options(usagestr, options);
				case -2:
					unknown_short = *c.opt;
					goto unknown;
				}
			}
			continue;
		}
		if (!arg[2]) {		/* "--" */
			if (!keep_dashdash) {
				c.argc--;
				c.argv++;
			}
			break;
		}
		if (!strcmp(arg + 2, "help-all") || !strcmp(arg + 2, "help"))
			usage_with_options(usagestr, options);
		switch (parse_long_opt(&c, arg + 2, options)) {
		case -1:
			usage_with_options(usagestr, options);
		case -2:
			unknown_arg = arg + 2;
			goto unknown;
		}
	}
	for (i = 0; i < c.argc; i++)
		argv[i] = c.argv[i];
	argv[c.argc] = NULL;
	return c.argc;
unknown:
	if (unknown_arg)
		pr_err("unknown option `%s'", unknown_arg);
	else
		pr_err("unknown switch `%c'", unknown_short);
	usage_with_options(usagestr, options);
}
