{-# LANGUAGE LambdaCase #-}
module Main where

import qualified Data.Map.Strict as M
import Data.List (foldl')

-- | Run-length encoding, and its inverse.
rle :: Eq a => [a] -> [(a, Int)]
rle = foldr step []
  where
    step x ((y, n) : rest) | x == y = (y, n + 1) : rest
    step x acc = (x, 1) : acc

unrle :: [(a, Int)] -> [a]
unrle = concatMap (\(x, n) -> replicate n x)

histogram :: String -> M.Map Char Int
histogram = foldl' (\m c -> M.insertWith (+) c 1 m) M.empty

main :: IO ()
main = do
  let s = "aaabccddddd"
  print (rle s)
  print (unrle (rle s) == s)
  mapM_ (\case (c, n) -> putStrLn (c : ' ' : show n)) (M.toList (histogram s))
