# frozen_string_literal: true

module Geometry
  Point = Struct.new(:x, :y) do
    def +(other) = Point.new(x + other.x, y + other.y)
    def to_s = "(#{x}, #{y})"
  end

  def self.centroid(points)
    return nil if points.empty?
    sum = points.reduce(Point.new(0, 0), :+)
    Point.new(sum.x.fdiv(points.size), sum.y.fdiv(points.size))
  end
end

pts = [[0, 0], [4, 0], [4, 3]].map { |x, y| Geometry::Point.new(x, y) }
puts Geometry.centroid(pts)
puts %w[apple banana cherry].each_with_index.map { |f, i| "#{i}: #{f.capitalize}" }.join(', ')
