// The Lua sources of the bucketed-item scripts (see ``BucketLayout``). Purchases and
// cancellations of a bucket run the plain item's scripts on the bucket's keys; these move stock
// between buckets and set buckets up.
extension SaleScript {
    static let bucketPublishSource = """
        -- KEYS: every key of one bucket (item hash, buyers, orders, cancellations, request and
        --       restock records, transfers, pending transfers)
        -- ARGV: stock, limit per user, start ms or '', end ms or '', payment deadline ms or ''
        redis.call('DEL', unpack(KEYS))
        redis.call('HSET', KEYS[1], 'total', ARGV[1], 'sold', 0, 'limit', ARGV[2], 'epoch', 1, 'initial', ARGV[1],
          'restocked', 0, 'in', 0, 'out', 0)
        if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'start', ARGV[3]) end
        if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'end', ARGV[4]) end
        if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'payWithinMs', ARGV[5]) end
        return 'OK'
        """

    static let bucketRootSource = """
        -- KEYS: every key of the plain item (its root hash first)
        -- ARGV: the root's epoch when the publish began, replace '1' or '0', bucket count,
        --       generation (the new epoch), salts, limit, start ms or '', end ms or '', stock,
        --       payment deadline ms or ''
        local root = redis.call('HMGET', KEYS[1], 'total', 'sold', 'epoch')
        local epoch = tonumber(root[3]) or 0
        if string.format('%d', epoch) ~= ARGV[1] then return 'C|' .. string.format('%d', epoch) end
        if root[1] then
          local sold = tonumber(root[2]) or 0
          local history = redis.call('XLEN', KEYS[3])
          if (sold ~= 0 or history ~= 0) and ARGV[2] ~= '1' then
            return 'H|' .. string.format('%d', sold) .. '|' .. history
          end
        end
        redis.call('DEL', unpack(KEYS))
        redis.call('HSET', KEYS[1], 'buckets', ARGV[3], 'generation', ARGV[4], 'salts', ARGV[5], 'limit', ARGV[6],
          'stock', ARGV[9], 'epoch', ARGV[4])
        if ARGV[7] ~= '' then redis.call('HSET', KEYS[1], 'start', ARGV[7]) end
        if ARGV[8] ~= '' then redis.call('HSET', KEYS[1], 'end', ARGV[8]) end
        if ARGV[10] ~= '' then redis.call('HSET', KEYS[1], 'payWithinMs', ARGV[10]) end
        return 'OK|' .. ARGV[4]
        """

    static let bucketRestockSource = """
        -- KEYS: bucket hash, restock records hash
        -- ARGV: units, request id, most units a bucket may hold
        local prior = redis.call('HGET', KEYS[2], ARGV[2])
        if prior then return prior end
        if redis.call('HEXISTS', KEYS[1], 'total') == 0 then return 'U' end
        if (tonumber(redis.call('HGET', KEYS[1], 'total')) or 0) + tonumber(ARGV[1]) > tonumber(ARGV[3]) then return 'X' end
        local total = redis.call('HINCRBY', KEYS[1], 'total', ARGV[1])
        redis.call('HINCRBY', KEYS[1], 'restocked', ARGV[1])
        local epoch = redis.call('HINCRBY', KEYS[1], 'epoch', 1)
        local sold = tonumber(redis.call('HGET', KEYS[1], 'sold')) or 0
        local result = 'OK|' .. string.format('%d', total) .. '|' .. string.format('%d', total - sold) .. '|' .. string.format('%d', epoch)
        redis.call('HSET', KEYS[2], ARGV[2], result)
        return result
        """

    // Step 1 of a transfer, on the donor: takes at most what is left and records it under the
    // transfer id, so a repeat of the same id answers the record and never takes twice.
    static let transferTakeSource = """
        -- KEYS: donor bucket hash, donor transfers hash, donor pending transfers set
        -- ARGV: transfer id, units wanted, target bucket index
        local prior = redis.call('HGET', KEYS[2], ARGV[1])
        if prior then return prior end
        local item = redis.call('HMGET', KEYS[1], 'total', 'sold')
        local total = tonumber(item[1])
        if total == nil then return 'U' end
        local n = math.min(tonumber(ARGV[2]), total - (tonumber(item[2]) or 0))
        if n <= 0 then return 'Z' end
        redis.call('HINCRBY', KEYS[1], 'total', -n)
        redis.call('HINCRBY', KEYS[1], 'out', n)
        redis.call('HINCRBY', KEYS[1], 'epoch', 1)
        local record = 'out|' .. string.format('%d', n) .. '|' .. ARGV[3]
        redis.call('HSET', KEYS[2], ARGV[1], record)
        redis.call('SADD', KEYS[3], ARGV[1])
        return record
        """

    // Step 2, on the target: applies a transfer id once.
    static let transferGiveSource = """
        -- KEYS: target bucket hash, target transfers hash
        -- ARGV: transfer id, units, donor bucket index
        if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return 'A' end
        if redis.call('HEXISTS', KEYS[1], 'total') == 0 then return 'U' end
        redis.call('HINCRBY', KEYS[1], 'total', ARGV[2])
        redis.call('HINCRBY', KEYS[1], 'in', ARGV[2])
        redis.call('HINCRBY', KEYS[1], 'epoch', 1)
        redis.call('HSET', KEYS[2], ARGV[1], 'in|' .. ARGV[2] .. '|' .. ARGV[3])
        return 'OK'
        """

    // Step 3, on the donor: the transfer is no longer pending.
    static let transferDoneSource = """
        -- KEYS: donor transfers hash, donor pending transfers set
        -- ARGV: transfer id
        local record = redis.call('HGET', KEYS[1], ARGV[1])
        if record and string.sub(record, 1, 4) == 'out|' then
          redis.call('HSET', KEYS[1], ARGV[1], 'done|' .. string.sub(record, 5))
        end
        redis.call('SREM', KEYS[2], ARGV[1])
        return 'OK'
        """
}
