/// The server-side scripts of a sale. Each runs atomically on the node owning the item and
/// receives every key it touches in KEYS, so it works unchanged on a Redis Cluster.
///
/// Answers are short strings (`P|order|remaining`, `S|remaining`, ...) so that a purchase can
/// store its own answer as the request record and return it again on a retry (with `|R`
/// appended, so the caller knows the answer is a replay).
public enum SaleScript: String, Sendable, CaseIterable {
    case purchase, cancel, publish, restock, unpublish
    /// Bucketed items (see ``BucketLayout``): one bucket set up, the root hash switched to the
    /// buckets, a bucket restocked, and the three steps of a transfer between buckets.
    case bucketPublish, bucketRoot, bucketRestock, transferTake, transferGive, transferDone
    /// Payment deadlines (see ``SaleCoordinator/pay(_:order:)``): an unpaid order paid before
    /// its deadline, and the orders past their deadline released.
    case pay, release

    /// The Lua source.
    public var source: String {
        switch self {
        case .purchase: Self.purchaseSource
        case .cancel: Self.cancelSource
        case .publish: Self.publishSource
        case .restock: Self.restockSource
        case .unpublish: Self.unpublishSource
        case .bucketPublish: Self.bucketPublishSource
        case .bucketRoot: Self.bucketRootSource
        case .bucketRestock: Self.bucketRestockSource
        case .transferTake: Self.transferTakeSource
        case .transferGive: Self.transferGiveSource
        case .transferDone: Self.transferDoneSource
        case .pay: Self.paySource
        case .release: Self.releaseSource
        }
    }

    // Checks compare numbers explicitly (`== 1`, `> remaining`) because 0 is true in Lua, and
    // nothing is written before every check has passed: the script either applies the whole
    // purchase or nothing. Refusals write nothing at all, so a crowd of refused attempts
    // leaves no trace in Redis; only a purchase that bought stores its answer under its
    // request id, in a hash the item already has.
    private static let purchaseSource = """
        -- KEYS: item hash, buyers hash, orders stream, request records hash, and for an item
        --       with a payment deadline its deadlines set
        -- ARGV: user, quantity, request id, '1' when the caller will WAIT for replicas
        local prior = redis.call('HGET', KEYS[4], ARGV[3])
        if prior then
          -- A replay. Writing the record again moves this connection's replication offset
          -- past the original purchase, so a WAIT sent after it counts only replicas that
          -- have the purchase (after a write-free command WAIT may return at once).
          -- pcall: a node at maxmemory refuses the write, and the purchase must still be
          -- reported as bought ('|RN': replayed, replicas not known to have it).
          if ARGV[4] == '1' then
            local written = redis.pcall('HSET', KEYS[4], ARGV[3], prior)
            if type(written) == 'table' and written['err'] then return prior .. '|RN' end
          end
          return prior .. '|R'
        end
        local item = redis.call('HMGET', KEYS[1], 'total', 'sold', 'limit', 'start', 'end', 'payWithinMs')
        local total = tonumber(item[1])
        if total == nil then return 'U' end
        local within = tonumber(item[6])
        -- 'D': the item has a payment deadline and the call did not name its deadlines set;
        -- nothing was written, and the caller sends it again with the set as KEYS[5].
        if within ~= nil and KEYS[5] == nil then return 'D' end
        local starts = tonumber(item[4])
        local ends = tonumber(item[5])
        local now
        if starts ~= nil or ends ~= nil or within ~= nil then
          -- The server's clock, read only for items with a window or a payment deadline.
          local clock = redis.call('TIME')
          now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
          if starts ~= nil and now < starts then return 'N|' .. item[4] end
          if ends ~= nil and now >= ends then return 'E|' .. item[5] end
        end
        local remaining = total - (tonumber(item[2]) or 0)
        if remaining <= 0 then return 'S|0' end
        local quantity = tonumber(ARGV[2])
        local limit = tonumber(item[3]) or 0
        if limit > 0 then
          -- Read only when there is a limit: one call fewer per purchase without one.
          local held = tonumber(redis.call('HGET', KEYS[2], ARGV[1])) or 0
          if held + quantity > limit then return 'L|' .. held end
        end
        if quantity > remaining then return 'S|' .. remaining end
        redis.call('HINCRBY', KEYS[1], 'sold', quantity)
        redis.call('HINCRBY', KEYS[2], ARGV[1], quantity)
        local order
        if within ~= nil then
          -- An unpaid order: held until paid, released at its deadline.
          local due = string.format('%d', now + within)
          order = redis.call('XADD', KEYS[3], '*', 'type', 'purchase', 'user', ARGV[1], 'qty', ARGV[2], 'request', ARGV[3], 'due', due)
          redis.call('ZADD', KEYS[5], due, order)
        else
          order = redis.call('XADD', KEYS[3], '*', 'type', 'purchase', 'user', ARGV[1], 'qty', ARGV[2], 'request', ARGV[3])
        end
        local answer = 'P|' .. order .. '|' .. string.format('%d', remaining - quantity)
        redis.call('HSET', KEYS[4], ARGV[3], answer)
        return answer
        """

    private static let cancelSource = """
        -- KEYS: item hash, buyers hash, orders stream, cancellations hash, deadlines set,
        --       payments hash
        -- ARGV: order id, id of this cancel call (the same on its retries)
        if redis.call('EXISTS', KEYS[1]) == 0 then return 'U' end
        local done = redis.call('HGET', KEYS[4], ARGV[1])
        if done then
          local id, quantity, call, user = string.match(done, '^([^|]*)|([^|]*)|([^|]*)|(.*)$')
          -- A retry of the call that cancelled (its reply was lost) gets the same answer.
          local kind = 'A'
          if call == ARGV[2] then kind = 'C' end
          return kind .. '|' .. id .. '|' .. quantity .. '|' .. user
        end
        -- An order released at its payment deadline already gave its units back.
        local settled = redis.call('HGET', KEYS[6], ARGV[1])
        if settled and string.sub(settled, 1, 2) == 'R|' then return settled end
        local entries = redis.call('XRANGE', KEYS[3], ARGV[1], ARGV[1])
        if #entries == 0 then return 'O' end
        local fields = entries[1][2]
        local kind, user, quantity
        for i = 1, #fields, 2 do
          if fields[i] == 'type' then kind = fields[i + 1]
          elseif fields[i] == 'user' then user = fields[i + 1]
          elseif fields[i] == 'qty' then quantity = tonumber(fields[i + 1]) end
        end
        if kind ~= 'purchase' or user == nil or quantity == nil then return 'O' end
        redis.call('HINCRBY', KEYS[1], 'sold', -quantity)
        local held = redis.call('HINCRBY', KEYS[2], user, -quantity)
        if held <= 0 then redis.call('HDEL', KEYS[2], user) end
        redis.call('HINCRBY', KEYS[1], 'epoch', 1)
        -- An unpaid order leaves the deadlines set: it is never released later.
        redis.call('ZREM', KEYS[5], ARGV[1])
        local id = redis.call('XADD', KEYS[3], '*', 'type', 'cancel', 'order', ARGV[1], 'user', user, 'qty', quantity)
        redis.call('HSET', KEYS[4], ARGV[1], id .. '|' .. string.format('%d', quantity) .. '|' .. ARGV[2] .. '|' .. user)
        return 'C|' .. id .. '|' .. string.format('%d', quantity) .. '|' .. user
        """

    private static let publishSource = """
        -- KEYS: every key of the item (item hash, buyers, orders, cancellations, request and
        --       restock records)
        -- ARGV: stock, limit per user, start ms or '', end ms or '', replace '1' or '0',
        --       payment deadline ms or ''
        -- 'B': the item is bucketed (or a bucketed publish of it was interrupted).
        local root = redis.call('HMGET', KEYS[1], 'sold', 'buckets', 'pending')
        if root[2] or root[3] then return 'B' end
        local sold = tonumber(root[1]) or 0
        local history = redis.call('XLEN', KEYS[3])
        if (sold ~= 0 or history ~= 0) and ARGV[5] ~= '1' then
          return 'H|' .. string.format('%d', sold) .. '|' .. history
        end
        local prior = redis.call('HMGET', KEYS[1], 'epoch', 'payWithinMs')
        local epoch = (tonumber(prior[1]) or 0) + 1
        redis.call('DEL', unpack(KEYS))
        redis.call('HSET', KEYS[1], 'total', ARGV[1], 'sold', 0, 'limit', ARGV[2], 'epoch', epoch)
        if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'start', ARGV[3]) end
        if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'end', ARGV[4]) end
        if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'payWithinMs', ARGV[6]) end
        -- '|D': the item replaced had a payment deadline (the caller updates the registry).
        if prior[2] then return 'OK|' .. string.format('%d', epoch) .. '|D' end
        return 'OK|' .. string.format('%d', epoch)
        """

    private static let restockSource = """
        -- KEYS: item hash, restock records hash
        -- ARGV: units, request id, most units an item may hold
        local prior = redis.call('HGET', KEYS[2], ARGV[2])
        if prior then return prior end
        -- A bucketed item's root has no total: 'U' sends the caller to its buckets.
        if redis.call('HEXISTS', KEYS[1], 'total') == 0 then return 'U' end
        if (tonumber(redis.call('HGET', KEYS[1], 'total')) or 0) + tonumber(ARGV[1]) > tonumber(ARGV[3]) then return 'X' end
        local total = redis.call('HINCRBY', KEYS[1], 'total', ARGV[1])
        local epoch = redis.call('HINCRBY', KEYS[1], 'epoch', 1)
        local sold = tonumber(redis.call('HGET', KEYS[1], 'sold')) or 0
        local result = 'OK|' .. string.format('%d', total) .. '|' .. string.format('%d', total - sold) .. '|' .. string.format('%d', epoch)
        redis.call('HSET', KEYS[2], ARGV[2], result)
        return result
        """

    private static let unpublishSource = """
        -- KEYS: every key of the item, the item hash first
        -- ARGV: '1' to remove an item that has sales, '0' to refuse
        local root = redis.call('HMGET', KEYS[1], 'sold', 'buckets', 'pending')
        if root[2] or root[3] then return 'B' end
        local sold = tonumber(root[1]) or 0
        local history = redis.call('XLEN', KEYS[3])
        if (sold ~= 0 or history ~= 0) and ARGV[1] ~= '1' then
          return 'H|' .. string.format('%d', sold) .. '|' .. history
        end
        return 'OK|' .. redis.call('DEL', unpack(KEYS))
        """
}
