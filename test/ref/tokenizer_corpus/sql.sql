-- Monthly revenue per customer, with a running total.
WITH monthly AS (
    SELECT c.id AS customer_id,
           date_trunc('month', o.created_at) AS month,
           SUM(oi.quantity * oi.unit_price)::numeric(12, 2) AS revenue
    FROM customers c
    JOIN orders o       ON o.customer_id = c.id AND o.status <> 'cancelled'
    JOIN order_items oi ON oi.order_id = o.id
    WHERE o.created_at >= NOW() - INTERVAL '12 months'
    GROUP BY 1, 2
)
SELECT customer_id, month, revenue,
       SUM(revenue) OVER (PARTITION BY customer_id ORDER BY month) AS running_total
FROM monthly
WHERE revenue > 0
ORDER BY customer_id, month DESC
LIMIT 100;
