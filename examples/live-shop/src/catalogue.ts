/** The shop's static catalogue: creators and the products they sell. Shared by page and server. */

export interface Creator {
  id: string;
  name: string;
}

export interface Product {
  sku: string;
  name: string;
  creator: string;
  /** Price in cents, so sums stay exact. */
  price: number;
  /** One of the swatch classes in shop.css: the picture, without image files. */
  swatch: 'coral' | 'teal' | 'gold' | 'plum' | 'sky' | 'moss';
}

export const CREATORS: readonly Creator[] = [
  { id: 'maya', name: 'Maya Okafor' },
  { id: 'leo', name: 'Leo Brandt' },
  { id: 'sana', name: 'Sana Iqbal' },
];

export const PRODUCTS: readonly Product[] = [
  { sku: 'mug-sunrise', name: 'Sunrise mug', creator: 'maya', price: 1800, swatch: 'coral' },
  { sku: 'tote-canvas', name: 'Canvas tote', creator: 'maya', price: 2400, swatch: 'gold' },
  { sku: 'print-harbour', name: 'Harbour print', creator: 'leo', price: 3500, swatch: 'sky' },
  { sku: 'notebook-grid', name: 'Grid notebook', creator: 'leo', price: 1200, swatch: 'moss' },
  { sku: 'candle-fig', name: 'Fig candle', creator: 'sana', price: 2200, swatch: 'plum' },
  { sku: 'scarf-tide', name: 'Tide scarf', creator: 'sana', price: 4200, swatch: 'teal' },
];

export function creatorName(id: string): string {
  return CREATORS.find((creator) => creator.id === id)?.name ?? id;
}

export function productBySKU(sku: string): Product | undefined {
  return PRODUCTS.find((product) => product.sku === sku);
}

export function formatPrice(cents: number): string {
  return `€${(cents / 100).toFixed(2)}`;
}
