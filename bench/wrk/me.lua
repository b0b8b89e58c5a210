-- GET /api/v1/users/me: the cheapest authenticated read, so the figure is mostly the HTTP
-- layer (middlewares, routing, dependencies, the access line, serialisation) plus one
-- session lookup in Redis and one user read. RENTBOOK_WRK_TOKENS holds one bearer token a
-- line; request g sends token g % N. RENTBOOK_WRK_THREADS is wrk's -t.
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "?.lua"
local common = require("common")

setup = common.setup
done = common.done

local tokens, next_number

function init(args)
   tokens = common.lines(os.getenv("RENTBOOK_WRK_TOKENS"))
   next_number = common.numbers()
end

function request()
   local g = next_number()
   return wrk.format("GET", "/api/v1/users/me", { ["Authorization"] = "Bearer " .. tokens[(g % #tokens) + 1] })
end
