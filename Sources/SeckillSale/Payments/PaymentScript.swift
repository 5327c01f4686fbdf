// The Lua sources of payment deadlines (see ``SaleCoordinator/pay(_:order:)``). A purchase of an
// item published with `payWithinMs` adds its order to the item's deadlines set (a sorted set
// scored by the deadline, from the server's clock); a payment takes it out before the deadline;
// a release takes it out after. Both run on the item's node in one script each, and each first
// removes the order from the set, so whichever runs first settles the order and the other finds
// it gone: an order is paid or released, never both.
extension SaleScript {
    // Shared by the payment and release scripts: releases one unpaid order (taken out of the
    // deadlines set): its units back to stock and to its buyer, a release entry in the stream,
    // and the record that answers a later payment or cancellation. Returns nil when the
    // order's purchase entry is gone (nothing to give back).
    private static let releaseFunction = """
        local function release(meta, buyers, orders, due, payments, order)
          redis.call('ZREM', due, order)
          local entries = redis.call('XRANGE', orders, order, order)
          if #entries == 0 then return nil end
          local fields = entries[1][2]
          local user, quantity
          for i = 1, #fields, 2 do
            if fields[i] == 'user' then user = fields[i + 1]
            elseif fields[i] == 'qty' then quantity = tonumber(fields[i + 1]) end
          end
          if user == nil or quantity == nil then return nil end
          redis.call('HINCRBY', meta, 'sold', -quantity)
          local held = redis.call('HINCRBY', buyers, user, -quantity)
          if held <= 0 then redis.call('HDEL', buyers, user) end
          local id = redis.call('XADD', orders, '*', 'type', 'release', 'order', order, 'user', user, 'qty', quantity)
          redis.call('HSET', payments, order, 'R|' .. id .. '|' .. string.format('%d', quantity) .. '|' .. user)
          return id, user, quantity
        end
        local clock = redis.call('TIME')
        local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
        """

    static let paySource =
        releaseFunction + """
            -- KEYS: item hash, buyers hash, orders stream, cancellations hash, deadlines set, payments hash
            -- ARGV: order id
            -- Answers: P|entry|qty|user paid now, A|... paid before, R|... released before,
            -- L|entry|qty|due|user refused and released now (the deadline passed), C|cancellation,
            -- O unknown order, W no payment deadline, U unknown item.
            local item = redis.call('HMGET', KEYS[1], 'total', 'payWithinMs')
            if not item[1] then return 'U' end
            if not item[2] then return 'W' end
            local settled = redis.call('HGET', KEYS[6], ARGV[1])
            if settled then
              if string.sub(settled, 1, 2) == 'P|' then return 'A|' .. string.sub(settled, 3) end
              return settled
            end
            local cancelled = redis.call('HGET', KEYS[4], ARGV[1])
            if cancelled then return 'C|' .. string.match(cancelled, '^([^|]*)') end
            local due = tonumber(redis.call('ZSCORE', KEYS[5], ARGV[1]))
            if due == nil then return 'O' end
            if now >= due then
              -- Too late: refused, and released in this same step, so the refusal and the release agree.
              local id, user, quantity = release(KEYS[1], KEYS[2], KEYS[3], KEYS[5], KEYS[6], ARGV[1])
              if id == nil then return 'O' end
              redis.call('HINCRBY', KEYS[1], 'epoch', 1)
              return 'L|' .. id .. '|' .. string.format('%d', quantity) .. '|' .. string.format('%d', due) .. '|' .. user
            end
            local entries = redis.call('XRANGE', KEYS[3], ARGV[1], ARGV[1])
            if #entries == 0 then return 'O' end
            local fields = entries[1][2]
            local user, quantity
            for i = 1, #fields, 2 do
              if fields[i] == 'user' then user = fields[i + 1]
              elseif fields[i] == 'qty' then quantity = fields[i + 1] end
            end
            if user == nil or quantity == nil then return 'O' end
            redis.call('ZREM', KEYS[5], ARGV[1])
            local id = redis.call('XADD', KEYS[3], '*', 'type', 'paid', 'order', ARGV[1], 'user', user, 'qty', quantity)
            local record = id .. '|' .. quantity .. '|' .. user
            redis.call('HSET', KEYS[6], ARGV[1], 'P|' .. record)
            return 'P|' .. record
            """

    static let releaseSource =
        releaseFunction + """
            -- KEYS: item hash, buyers hash, orders stream, deadlines set, payments hash
            -- ARGV: most orders to release
            -- Answers: RELEASED|NEXT (NEXT: the earliest deadline still pending or, with none, the
            -- earliest a purchase made from now on can fall due; '' without a payment deadline), U.
            local item = redis.call('HMGET', KEYS[1], 'total', 'payWithinMs')
            if not item[1] then return 'U' end
            local due = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', string.format('%d', now), 'LIMIT', 0, tonumber(ARGV[1]))
            local released = 0
            for _, order in ipairs(due) do
              if release(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], order) then released = released + 1 end
            end
            -- Ends sold-out shedding: the units are for sale again.
            if released > 0 then redis.call('HINCRBY', KEYS[1], 'epoch', 1) end
            local first = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
            local next = ''
            if #first == 2 then
              next = string.format('%d', tonumber(first[2]))
            elseif tonumber(item[2]) then
              next = string.format('%d', now + tonumber(item[2]))
            end
            return string.format('%d', released) .. '|' .. next
            """
}
