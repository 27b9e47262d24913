/// One page of a list, the same shape for every list route: the items, newest or best first, and whether more
/// follow (ask again with `starting_after` set to the last item's id).
struct PageDTO<Item: Encodable>: Encodable {
    let data: [Item]
    let hasMore: Bool
}
