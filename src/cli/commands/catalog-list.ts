import { formatUsd } from '../../modules/billing/money.ts';
import type { OperatorCommand } from '../command.ts';

export const catalogList: OperatorCommand = {
  name: 'catalog:list',
  usage: 'catalog:list',
  summary: 'Services, countries and the price table with live stock',
  async run(services) {
    const [serviceList, countryList, prices] = await Promise.all([
      services.catalog.services(),
      services.catalog.countries(),
      services.catalog.prices({}),
    ]);
    const lines = prices.map((p) => `${p.serviceCode.padEnd(6)} ${String(p.countryId).padStart(5)}  ${formatUsd(p.price).padStart(10)} USD  ${p.available} available`);
    return {
      json: {
        services: serviceList,
        countries: countryList.map((c) => ({ id: c.id, name: c.name, iso: c.iso, prefix: `+${c.dialPrefix}` })),
        prices: prices.map((p) => ({ service: p.serviceCode, country: p.countryId, price: p.price / 10_000, available: p.available })),
      },
      text: ['service country      price          stock', ...lines].join('\n'),
    };
  },
};
