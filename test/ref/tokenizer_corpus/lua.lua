-- memoized fibonacci with a metatable
local memo = setmetatable({}, { __mode = "k" })
local function fib(n)
  if n < 2 then return n end
  if memo[n] then return memo[n] end
  local v = fib(n - 1) + fib(n - 2)
  memo[n] = v
  return v
end
for i = 1, 10 do io.write(fib(i), i < 10 and ", " or "\n") end
print(("%5.1f%%"):format(99.5), #"length", 7 // 2, 7 % 3, 2^10, ~5, 1 << 4)
