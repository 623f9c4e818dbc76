/*
 * The log hook. Libraries are silent unless the embedder installs one: a
 * kernel's console may not exist yet, and a library must never print on its
 * own (docs/ARCHITECTURE.md).
 */
#include <xenfront/platform.h>

static xf_log_hook_t log_hook;
static void *log_arg;
static enum xf_log_level log_max = XF_LOG_WARN;

void xf_log_set_hook(xf_log_hook_t hook, void *arg, enum xf_log_level max_level)
{
    log_hook = hook;
    log_arg = arg;
    log_max = max_level;
}

void xf_log(enum xf_log_level level, const char *fmt, ...)
{
    va_list ap;

    if (log_hook == NULL || level > log_max)
        return;
    va_start(ap, fmt);
    log_hook(log_arg, level, fmt, ap);
    va_end(ap);
}
