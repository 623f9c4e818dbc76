/*
 * The response-id table: set-up and the walk. The per-request operations
 * are inline in xenfront/idtable.h.
 */
#include <xenfront/idtable.h>

int xf_idtable_init(struct xf_idtable *t, struct xf_idtable_slot *slots, uint32_t n)
{
    if (t == NULL || slots == NULL || n == 0 || n > XF_IDTABLE_MAX)
        return -XF_EINVAL;
    t->slots = slots;
    t->size = n;
    t->published = 0;
    for (uint32_t i = 0; i < n; i++) {
        slots[i].cookie = NULL;
        slots[i].state = XF_ID_FREE;
        slots[i].next = i + 1 < n ? i + 1 : XF_ID_NONE;
    }
    t->free_head = 0;
    t->free_tail = n - 1;
    t->nfree = n;
    return 0;
}

int32_t xf_idtable_next(const struct xf_idtable *t, uint32_t from, uint32_t mask)
{
    for (uint32_t id = from; id < t->size; id++)
        if (mask & XF_ID_STATE_BIT(t->slots[id].state))
            return (int32_t)id;
    return -XF_ENOENT;
}
