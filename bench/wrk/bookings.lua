-- POST /api/v1/bookings: request g books listing g % L on night first + g // L, so every
-- request of the run has a (listing, night) of its own and should get 201; each carries a
-- renter's bearer token (round robin). Files and values come from the environment:
-- RENTBOOK_WRK_LISTINGS (one listing id a line), RENTBOOK_WRK_TOKENS (one token a line),
-- RENTBOOK_WRK_FIRST_DAY (UTC midnight of the first night, epoch seconds),
-- RENTBOOK_WRK_THREADS (wrk's -t).
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "?.lua"
local common = require("common")

setup = common.setup
done = common.done

local listings, tokens, first_day, next_number

function init(args)
   listings = common.lines(os.getenv("RENTBOOK_WRK_LISTINGS"))
   tokens = common.lines(os.getenv("RENTBOOK_WRK_TOKENS"))
   first_day = tonumber(os.getenv("RENTBOOK_WRK_FIRST_DAY"))
   next_number = common.numbers()
end

function request()
   local g = next_number()
   local day = first_day + math.floor(g / #listings) * 86400
   local body = string.format(
      '{"listing_id":"%s","start":"%s","end":"%s","quantity":1,"guests":2}',
      listings[(g % #listings) + 1], os.date("!%Y-%m-%d", day), os.date("!%Y-%m-%d", day + 86400))
   local headers = {
      ["Content-Type"] = "application/json",
      ["Authorization"] = "Bearer " .. tokens[(g % #tokens) + 1],
   }
   return wrk.format("POST", "/api/v1/bookings", headers, body)
end
